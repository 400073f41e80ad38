//! The libtest-mimic face of a run.
