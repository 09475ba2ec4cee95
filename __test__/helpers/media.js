'use strict';

// The tests feed tracks with the demo's generated frames.
module.exports = require('../../demo/frames');
