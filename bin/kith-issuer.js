#!/usr/bin/env node
import '../dist/src/cli/kith-issuer.js';
