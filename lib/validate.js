'use strict';

// Argument checks shared by the classes, with mediasoup-client's messages.

function checkAppData(appData) {
  if (appData === null || typeof appData !== 'object' || Array.isArray(appData)) {
    throw new TypeError('if given, appData must be an object');
  }
}

module.exports = { checkAppData };
