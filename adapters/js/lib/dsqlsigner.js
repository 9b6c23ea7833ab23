'use strict';
// js-dsql-signer: see dbsigners.js.
module.exports = require('./dbsigners').dsql;
