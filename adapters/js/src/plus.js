// goalpost.plus.js: the tracker of contract §5 plus the automatic events of §8 (File Download,
// Scroll Depth, Video Play). Built into one IIFE: no global but `goalpost`.

import { start } from './tracker.js';
import { watchDownloads } from './downloads.js';
import { watchScroll } from './scroll.js';
import { watchVideos } from './videos.js';

start([watchDownloads, watchScroll, watchVideos]);
