// goalpost.js: the tracker of contract §5 and nothing more. Built into one IIFE: no global but
// `goalpost`.

import { start } from './tracker.js';

start([]);
