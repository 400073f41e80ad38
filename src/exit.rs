//! The exit codes of every `dialtone` command, decided here and nowhere else (the README and
//! `docs/report-format.md` document them).

/// Nothing to report: a conformant target, a fuzz run without findings, a clean spec.
pub const CLEAN: u8 = 0;
/// Something was found: a non-conformance (`run`) or a finding (`fuzz`).
pub const FOUND: u8 = 1;
/// Bad input (spec problems, bad arguments), setup or target errors; also a run whose only
/// problems are error verdicts (the target kept its tests from deciding).
pub const ERROR: u8 = 2;
