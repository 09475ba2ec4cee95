'use strict';

// Argument checks shared by the classes, with mediasoup-client's messages where it has them.

function checkAppData(appData) {
  if (appData === null || typeof appData !== 'object' || Array.isArray(appData)) {
    throw new TypeError('if given, appData must be an object');
  }
}

// Throws a TypeError naming the first number inside `value` (plain objects and arrays, walked
// deeply) that is NaN or infinite: the native layer takes JSON, where such numbers do not exist.
function checkFiniteNumbers(value, name) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${name} must be a finite number (got ${value})`);
    return;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkFiniteNumbers(item, `${name}[${i}]`));
    return;
  }
  for (const [key, item] of Object.entries(value)) checkFiniteNumbers(item, `${name}.${key}`);
}

// An optional integer option: undefined, or an integer within [min, max] (TypeError otherwise).
function checkInteger(value, name, { min = 0, max = 0xffffffff } = {}) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
}

// An optional boolean option: undefined or a boolean (TypeError otherwise).
function checkBoolean(value, name) {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean (got ${typeof value})`);
  }
}

module.exports = { checkAppData, checkFiniteNumbers, checkInteger, checkBoolean };
