//! Property testing from the spec: proptest strategies that generate, for every field type
//! the spec language has, values a conformant device must accept and values that break
//! exactly one documented constraint. The plan asks whether a field has an invalid value;
//! the runner's property tests draw from both.

pub mod strategy;
