'use strict';

// Argument checks shared by the classes, with mediasoup-client's messages where it has them.

function checkAppData(appData) {
  if (appData === null || typeof appData !== 'object' || Array.isArray(appData)) {
    throw new TypeError('if given, appData must be an object');
  }
}

// Throws a TypeError naming the first number inside `value` (plain objects and arrays, walked
// deeply) that is NaN or infinite: the native layer takes JSON, where such numbers do not exist.
// The walk makes nothing (no names, no entry arrays) unless it finds one.
function checkFiniteNumbers(value, name) {
  const found = nonFinite(value);
  if (found !== null) throw new TypeError(`${name}${found.path} must be a finite number (got ${found.value})`);
}

// The first NaN or infinite number in `value`: its path below `value` and the number; or null.
function nonFinite(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? null : { path: '', value };
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nonFinite(value[i]);
      if (found !== null) return { path: `[${i}]${found.path}`, value: found.value };
    }
    return null;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const found = nonFinite(value[key]);
    if (found !== null) return { path: `.${key}${found.path}`, value: found.value };
  }
  return null;
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
