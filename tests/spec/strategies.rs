//! The spec-derived strategies agree with the emulator's field checks, for every field of
//! every schema of the four specs: generated valid values are accepted, and each generated
//! invalid value is refused. A disagreement is a bug in one of the two, and proptest shrinks
//! it to the smallest value that shows it.

use dialtone::props::strategy;
use dialtone::spec::check::check_value;
use dialtone::spec::Spec;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::common;

const CASES: u32 = 24;

fn runner(seed: u8) -> TestRunner {
    // A fixed seed: the same values on every run, so a failure reproduces.
    TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

fn specs() -> Vec<Spec> {
    common::bundled()
}

#[test]
fn valid_values_are_accepted_by_every_field() {
    let mut problems = Vec::new();
    let mut fields = 0;
    for s in specs() {
        for schema in s.schemas() {
            for f in &schema.field {
                fields += 1;
                let result = runner(1).run(&strategy::valid(&s, f), |v| {
                    check_value(&s, f, v.clone()).map(|_| ()).map_err(|e| {
                        proptest::test_runner::TestCaseError::fail(format!("{v}: {e}"))
                    })
                });
                if let Err(e) = result {
                    problems.push(format!(
                        "{}/{}.{}: {e}",
                        s.name(),
                        schema.name.get_ref(),
                        f.name.get_ref()
                    ));
                }
            }
        }
    }
    assert!(fields > 300, "only {fields} fields");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn invalid_values_are_refused_by_every_constrained_field() {
    let mut problems = Vec::new();
    let mut constrained = 0;
    for s in specs() {
        for schema in s.schemas() {
            for f in &schema.field {
                let Some(bad) = strategy::invalid(f) else {
                    continue;
                };
                constrained += 1;
                let result = runner(2).run(&bad, |(v, why)| match check_value(&s, f, v.clone()) {
                    Err(_) => Ok(()),
                    Ok(_) => Err(proptest::test_runner::TestCaseError::fail(format!(
                        "{v} ({why}) was accepted"
                    ))),
                });
                if let Err(e) = result {
                    problems.push(format!(
                        "{}/{}.{}: {e}",
                        s.name(),
                        schema.name.get_ref(),
                        f.name.get_ref()
                    ));
                }
            }
        }
    }
    assert!(constrained > 100, "only {constrained} constrained fields");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn whole_objects_pass_the_emulator_field_by_field() {
    for s in specs() {
        for schema in s.schemas() {
            let result = runner(3).run(&strategy::object(&s, schema), |obj| {
                for f in schema.field.iter().filter(|f| !f.server_assigned) {
                    let v = obj.get(f.name.get_ref()).cloned().unwrap_or_default();
                    check_value(&s, f, v).map_err(|e| {
                        proptest::test_runner::TestCaseError::fail(format!(
                            "{}: {e}",
                            f.name.get_ref()
                        ))
                    })?;
                }
                Ok(())
            });
            assert!(
                result.is_ok(),
                "{}/{}: {result:?}",
                s.name(),
                schema.name.get_ref()
            );
        }
    }
}

/// The strategies can fail: a field whose constraint the strategy would break is caught.
#[test]
fn an_out_of_range_value_is_caught_and_shrunk() {
    let all = specs();
    let (s, f) = all
        .iter()
        .find_map(|s| {
            s.schemas()
                .flat_map(|sc| sc.field.iter())
                .find(|f| f.max.is_some() && f.ty == dialtone::spec::model::FieldType::Integer)
                .map(|f| (s, f))
        })
        .expect("an integer field with a maximum");
    let max = f.max.unwrap() as i64;
    // Claim that every value near the maximum is fine: proptest must find one
    // above the maximum that the emulator refuses, and shrink to max + 1.
    let too_wide = (max - 5..=max + 50).prop_map(serde_json::Value::from);
    let err = runner(4)
        .run(&too_wide, |v| {
            check_value(s, f, v.clone())
                .map(|_| ())
                .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{v}: {e}")))
        })
        .expect_err("values above the maximum must be refused");
    let text = format!("{err:?}");
    assert!(text.contains(&format!("{}", max + 1)), "{text}");
}

use proptest::strategy::Strategy;
