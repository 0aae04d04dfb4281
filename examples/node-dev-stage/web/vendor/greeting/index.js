'use strict';
// A stand-in for a package from the npm registry.
module.exports = (name) => `Hello, ${name}!`;
