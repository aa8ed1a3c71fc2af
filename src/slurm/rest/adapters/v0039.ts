// v0.0.39 (Slurm 23.02). UNTESTED ON REAL DATA: no v0.0.39 answer was captured. It is read as the v0.0.40 shape,
// which 23.02's data_parser introduced (struct numbers, state arrays, nested partitions).
import { dataParserAdapter } from './v0040.ts';

export const v0039 = dataParserAdapter('v0.0.39');
