'use strict';

// The native stats (an array of W3C stats objects) as the Map that getStats() gives in
// browsers, keyed by id.
function toStatsMap(list) {
  return new Map((Array.isArray(list) ? list : Object.values(list || {})).map((s) => [s.id, s]));
}

module.exports = { toStatsMap };
