'use strict';
// js-rds-signer: see dbsigners.js.
module.exports = require('./dbsigners').rds;
