//! Property testing from the spec (issue 5, in progress): strategies that generate valid and
//! invalid values for every field, for the properties the runner will check.

pub mod strategy;
