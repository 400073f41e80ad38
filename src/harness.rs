//! The test harness: wires runner sessions to their targets (starting the bundled
//! emulators when there is no device) and presents a run through libtest-mimic. `dialtone
//! run` and the `cargo test` target `tests/conformance.rs` share it, so both generate and
//! judge tests with the same code.
//!
//! Tests are run before libtest presents them, and libtest then reports every result in
//! plan order. APIs on different targets run side by side. On one target, the independent
//! reads go first, several at once; the tests that share the target's state follow one at a
//! time, in plan order (a write test is followed by an emulator reset; a state test enters
//! and leaves a device state). See [`Run::execute`].

use std::future::Future as _;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt as _};
use indexmap::IndexMap;
use libtest_mimic::{Arguments, Failed, Trial};
use parking_lot::Mutex;

use crate::emulator::faults::Faults;
use crate::emulator::server::{self, Running, ServerOptions};
use crate::emulator::Emulator;
use crate::profile::Profile;
use crate::runner::{Options, RunReport, Session, Suite, Test, TestResult, Verdict};
use crate::spec::Spec;

/// An emulator serving `specs` in-process on a loopback port, and a profile for it.
pub struct LocalEmulator {
    pub running: Running,
    pub profile: Profile,
}

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("emulator: {0}")]
    Emulator(String),
    #[error("starting the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Setup(#[from] crate::runner::SetupError),
}

/// Start the bundled emulator for `specs` on `rt`.
pub fn start_emulator(
    rt: &tokio::runtime::Runtime,
    specs: Vec<Spec>,
    faults: Faults,
    body_limit: usize,
) -> Result<LocalEmulator, HarnessError> {
    let emu = Emulator::new(specs, faults)
        .map_err(|e| HarnessError::Emulator(e.to_string()))?
        .with_max_body(body_limit);
    let emu = Arc::new(emu);
    let router = emu.clone().router();
    let running = rt
        .block_on(server::serve(router, ServerOptions::default()))
        .map_err(|e| HarnessError::Emulator(e.to_string()))?;
    let profile = Profile::for_emulator(&emu.accounts(), &emu.api_names(), &running.url, false);
    Ok(LocalEmulator { running, profile })
}

/// What a run's tests are sent to.
pub enum Against {
    /// A device: every API is tested there, with the same profile.
    Device { profile: Profile, apis: Vec<String> },
    /// The bundled emulator, one per spec on its own loopback port (APIs whose paths
    /// overlap never meet, as real devices never share a port).
    Emulators {
        specs: Vec<Spec>,
        faults: Faults,
        body_limit: usize,
    },
}

/// The runtimes of a run and the targets it talks to.
///
/// The bundled emulators are served by their own worker threads; the runner drives its
/// requests on the calling thread (see [`Run::execute`]), so its connections never hop
/// threads.
pub struct Targets {
    /// Serves the local emulators.
    pub server: Arc<tokio::runtime::Runtime>,
    /// Drives the client side, on the calling thread.
    pub client: Arc<tokio::runtime::Runtime>,
    /// The emulators started here (none against a device).
    pub local: Vec<LocalEmulator>,
    /// The profile of each API's target, by API name, in spec order.
    pub profiles: Vec<(String, Profile)>,
}

impl Targets {
    /// Start both runtimes and, unless the run goes to a device, the emulators.
    pub fn start(against: Against) -> Result<Targets, HarnessError> {
        let server = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(HarnessError::Runtime)?;
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(HarnessError::Runtime)?;
        let mut local = Vec::new();
        let profiles = match against {
            Against::Device { profile, apis } => {
                apis.into_iter().map(|a| (a, profile.clone())).collect()
            }
            Against::Emulators {
                specs,
                faults,
                body_limit,
            } => {
                let mut profiles = Vec::new();
                for one in specs {
                    let name = one.name().to_string();
                    let l = start_emulator(&server, vec![one], faults.clone(), body_limit)?;
                    profiles.push((name, l.profile.clone()));
                    local.push(l);
                }
                profiles
            }
        };
        Ok(Targets {
            server: Arc::new(server),
            client: Arc::new(client),
            local,
            profiles,
        })
    }

    /// Stop the local emulators, waiting for each to close. The runtimes stay up until
    /// `self` is dropped.
    pub fn shutdown(&mut self) {
        for l in self.local.drain(..) {
            self.server.block_on(l.running.shutdown());
        }
    }
}

/// A run in progress: the suite, one session per API, and the results gathered so far.
pub struct Run {
    pub suite: Suite,
    /// Session by API name. APIs may share a target or each have their own.
    pub sessions: IndexMap<String, Arc<Session>>,
    pub results: Arc<Mutex<Vec<TestResult>>>,
    /// Results of the tests run ahead (see [`Run::execute`]), by position in the suite.
    ahead: Arc<Mutex<Vec<Option<TestResult>>>>,
    /// Independent read tests in flight at once on one target; 1 sends them one by one.
    pub jobs: usize,
    rt: Arc<tokio::runtime::Runtime>,
    /// Why a test cannot run against its target, by test id: `Session::precheck`, asked
    /// once per test when the run is built.
    skips: std::collections::HashMap<String, String>,
}

impl Run {
    /// One target for every API of the suite.
    pub fn new(
        rt: Arc<tokio::runtime::Runtime>,
        suite: Suite,
        profile: Profile,
        opts: Options,
    ) -> Result<Run, HarnessError> {
        let profiles = suite
            .specs
            .keys()
            .map(|k| (k.clone(), profile.clone()))
            .collect();
        Run::per_api(rt, suite, profiles, opts)
    }

    /// A target per API (the bundled emulators, one per spec, so that APIs whose paths
    /// overlap never meet).
    pub fn per_api(
        rt: Arc<tokio::runtime::Runtime>,
        suite: Suite,
        profiles: Vec<(String, Profile)>,
        opts: Options,
    ) -> Result<Run, HarnessError> {
        let mut sessions = IndexMap::new();
        let gaps = Arc::new(crate::emulator::known_gaps());
        for (api, profile) in profiles {
            let mut opts = opts.clone();
            if profile.target.emulator {
                opts.emulator_gaps = gaps.clone();
            }
            let mut specs = IndexMap::new();
            if let Some(spec) = suite.specs.get(&api) {
                specs.insert(api.clone(), spec.clone());
            }
            sessions.insert(api, Arc::new(Session::new(profile, &specs, opts.clone())?));
        }
        let mut run = Run {
            suite,
            sessions,
            results: Arc::new(Mutex::new(Vec::new())),
            ahead: Arc::new(Mutex::new(Vec::new())),
            jobs: 1,
            rt,
            skips: std::collections::HashMap::new(),
        };
        run.skips = run
            .suite
            .tests
            .iter()
            .filter_map(|t| {
                let why = run.session(&t.entry.api).precheck(t)?;
                Some((t.entry.id.clone(), why))
            })
            .collect();
        Ok(run)
    }

    /// Why `test` cannot run against its target, if it cannot.
    fn skip_reason(&self, test: &Test) -> Option<&String> {
        self.skips.get(&test.entry.id)
    }

    fn session(&self, api: &str) -> Arc<Session> {
        self.session_ref(api).clone()
    }

    fn session_ref(&self, api: &str) -> &Arc<Session> {
        self.sessions.get(api).unwrap_or(&self.sessions[0])
    }

    /// Everything about the run but its results, over all sessions.
    pub fn info(&self) -> crate::runner::RunInfo {
        let mut info = self.sessions[0].info();
        let mut targets: Vec<String> = Vec::new();
        let mut requests = 0;
        let mut duration: f64 = 0.0;
        for s in self.sessions.values() {
            let i = s.info();
            if !targets.contains(&i.target) {
                targets.push(i.target.clone());
            }
            requests += i.requests;
            duration = duration.max(i.duration_ms);
            info.emulator &= i.emulator;
        }
        info.target = targets.join(", ");
        info.requests = requests;
        info.duration_ms = duration;
        info.specs = self.suite.specs.keys().cloned().collect();
        info
    }

    /// One trial per test. `on_result` sees every result as it is made (progress bars).
    /// Tests that cannot run here are ignored trials, and their skip result is recorded
    /// when the filter selects them.
    pub fn trials(
        &self,
        args: &Arguments,
        on_result: Arc<dyn Fn(&TestResult) + Send + Sync>,
    ) -> Vec<Trial> {
        let mut out = Vec::with_capacity(self.suite.tests.len());
        for (i, test) in self.suite.tests.iter().enumerate() {
            let kind = if test.case.as_ref().is_some_and(|c| c.kind.is_none()) {
                "case".to_string()
            } else {
                test.entry.kind.as_str().to_string()
            };
            let session = self.session(&test.entry.api);
            if let Some(reason) = self.skip_reason(test) {
                let selected = selected(args, &test.entry.id);
                if selected && !args.ignored && !args.include_ignored && !args.list {
                    let r = session.skipped(test, reason.clone());
                    self.results.lock().push(r);
                    out.push(
                        Trial::test(test.entry.id.clone(), || Ok(()))
                            .with_kind(kind)
                            .with_ignored_flag(true),
                    );
                    continue;
                }
            }
            let results = self.results.clone();
            let ahead = self.ahead.clone();
            // Only a test without a result made ahead (not run ahead: listed, filtered
            // differently, or panicked) is copied, to run in its trial.
            let made = ahead.lock().get(i).is_some_and(Option::is_some);
            let todo = (!made).then(|| {
                (
                    test.clone(),
                    self.skip_reason(test).cloned(),
                    self.rt.clone(),
                    on_result.clone(),
                )
            });
            out.push(
                Trial::test(test.entry.id.clone(), move || {
                    let done = ahead.lock().get_mut(i).and_then(Option::take);
                    let r = match (done, todo) {
                        (Some(r), _) => r,
                        (None, None) => return Err(Failed::from("the test's result was lost")),
                        (None, Some((test, skip, rt, on_result))) => {
                            let r = match skip {
                                Some(why) => session.skipped(&test, why),
                                None => rt.block_on(session.run_ready(&test)),
                            };
                            on_result(&r);
                            r
                        }
                    };
                    let verdict = failure_text(&r);
                    results.lock().push(r);
                    match verdict {
                        None => Ok(()),
                        Some(text) => Err(Failed::from(text)),
                    }
                })
                .with_kind(kind),
            );
        }
        out
    }

    /// How many tests `execute` will run (selected and not skipped beforehand): the total
    /// of a progress bar fed by `on_result`.
    pub fn pending(&self, args: &Arguments) -> usize {
        if args.list {
            return 0;
        }
        self.suite
            .tests
            .iter()
            .filter(|t| selected(args, &t.entry.id))
            .filter(|t| {
                let pre = self.skip_reason(t).is_some();
                if args.ignored {
                    pre
                } else {
                    !pre || args.include_ignored
                }
            })
            .count()
    }

    /// Run the tests, then present them with libtest-mimic (in plan order), and gather the
    /// report. `on_result` sees each result as it is made, once per test that runs.
    pub fn execute(
        &self,
        args: &Arguments,
        on_result: Arc<dyn Fn(&TestResult) + Send + Sync>,
    ) -> (libtest_mimic::Conclusion, RunReport) {
        let mut args = args.clone();
        args.test_threads = Some(1);
        if !args.list {
            self.results.lock().reserve(self.suite.tests.len());
            self.run_ahead(&args, &on_result);
        }
        let trials = self.trials(&args, on_result);
        let conclusion = libtest_mimic::run(&args, trials);
        let mut results = std::mem::take(&mut *self.results.lock());
        let order: std::collections::HashMap<&str, usize> = self
            .suite
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| (t.entry.id.as_str(), i))
            .collect();
        results.sort_by_key(|r| order.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
        let coverage = Some(crate::runner::coverage::Coverage::of(&self.suite, &results));
        let mut report = RunReport {
            info: self.info(),
            results,
            baseline: None,
            coverage,
            overlays: Vec::new(),
        };
        crate::runner::overlay::mark(&mut report, &self.suite);
        (conclusion, report)
    }
}

impl Run {
    /// Run every test without presenting anything (a fleet's device, a bench): the report,
    /// results in plan order, skips included.
    pub fn collect(&self) -> RunReport {
        let args = Arguments::default();
        let quiet: Arc<dyn Fn(&TestResult) + Send + Sync> = Arc::new(|_| {});
        self.run_ahead(&args, &quiet);
        let mut ahead = std::mem::take(&mut *self.ahead.lock());
        let results = self
            .suite
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| match self.skip_reason(t) {
                Some(why) => self.session(&t.entry.api).skipped(t, why.clone()),
                None => ahead.get_mut(i).and_then(Option::take).unwrap_or_else(|| {
                    let mut r = self.session(&t.entry.api).skipped(t, String::new());
                    r.verdict = Verdict::Error;
                    r.message = Some("the test did not run".into());
                    r
                }),
            })
            .collect::<Vec<_>>();
        let mut report = RunReport {
            info: self.info(),
            coverage: Some(crate::runner::coverage::Coverage::of(&self.suite, &results)),
            results,
            baseline: None,
            overlays: Vec::new(),
        };
        crate::runner::overlay::mark(&mut report, &self.suite);
        report
    }

    /// Run the selected tests ahead of their trials, as fast as the targets allow, and
    /// keep the results for the trials to report in plan order:
    ///
    /// * APIs on different targets run side by side (they share nothing);
    /// * on one target, the independent read tests (see [`Session::independent`]) go
    ///   first, `jobs` at a time: they see the target in its initial state, as they would
    ///   in order, since every test that changes the target restores it;
    /// * then every other test, one at a time, in plan order.
    fn run_ahead(&self, args: &Arguments, on_result: &Arc<dyn Fn(&TestResult) + Send + Sync>) {
        // Group by target URL, keeping plan order inside each group.
        let mut groups: IndexMap<&str, Vec<(usize, &Session, &Test)>> = IndexMap::new();
        for (i, t) in self.suite.tests.iter().enumerate() {
            if !selected(args, &t.entry.id) || self.skip_reason(t).is_some() {
                continue;
            }
            let s = self.session_ref(&t.entry.api);
            groups.entry(s.client.base()).or_default().push((i, s, t));
        }
        *self.ahead.lock() = (0..self.suite.tests.len()).map(|_| None).collect();
        let jobs = self.jobs.max(1);
        // Every test runs on the runner's own thread, inside this one `block_on`: none
        // moves between threads, so a test may hold what cannot (a property's shrinking
        // state). Only `jobs` read tests of a target are in flight at once, each polled
        // when its answer arrives.
        let mut streams: FuturesUnordered<_> = groups
            .into_values()
            .map(|tests| self.run_group(tests, jobs, on_result))
            .collect();
        self.rt
            .block_on(async { while streams.next().await.is_some() {} });
    }

    /// One target's tests: the independent reads `jobs` at a time, then the rest one by
    /// one in plan order. A test that panics leaves no result here; its trial runs it again
    /// and reports the panic.
    async fn run_group<'a>(
        &'a self,
        tests: Vec<(usize, &'a Session, &'a Test)>,
        jobs: usize,
        on_result: &Arc<dyn Fn(&TestResult) + Send + Sync>,
    ) {
        let keep = |(i, r): (usize, Option<TestResult>)| {
            if let Some(r) = r {
                on_result(&r);
                self.ahead.lock()[i] = Some(r);
            }
        };
        let run =
            |(i, s, t): (usize, &'a Session, &'a Test)| async move { (i, caught(s, t).await) };
        let (reads, rest): (Vec<_>, Vec<_>) =
            tests.into_iter().partition(|(_, s, t)| s.independent(t));
        let mut reads = reads.into_iter();
        let mut flight: FuturesUnordered<_> = reads.by_ref().take(jobs).map(run).collect();
        while let Some(r) = flight.next().await {
            keep(r);
            if let Some(next) = reads.next() {
                flight.push(run(next));
            }
        }
        for one in rest {
            keep(run(one).await);
        }
    }
}

/// `session.run_ready(test)`, with a panic turned into `None`.
fn caught<'a>(
    session: &'a Session,
    test: &'a Test,
) -> impl std::future::Future<Output = Option<TestResult>> + 'a {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::task::Poll;
    let mut run = Box::pin(session.run_ready(test));
    std::future::poll_fn(
        move |cx| match catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(Some(r)),
            Err(_) => Poll::Ready(None),
        },
    )
}

/// libtest's filter rules: a test runs when it contains (or, with `--exact`, equals) the
/// filter and no `--skip` pattern.
pub fn selected(args: &Arguments, name: &str) -> bool {
    let hit = |pat: &str| {
        if args.exact {
            name == pat
        } else {
            name.contains(pat)
        }
    };
    if let Some(f) = &args.filter {
        if !hit(f) {
            return false;
        }
    }
    !args.skip.iter().any(|s| hit(s))
}

/// The text libtest prints for a test that did not pass, or `None`.
pub fn failure_text(r: &TestResult) -> Option<String> {
    let label = match r.verdict {
        Verdict::Pass | Verdict::Skip => return None,
        Verdict::Fail => "non-conformance",
        Verdict::Error => "error (not a verdict on the target)",
    };
    let mut s = format!("{label}: {}\n", r.message.as_deref().unwrap_or(""));
    s.push_str(&format!("  rule:     {} ({})\n", r.rule, r.source));
    if let Some(e) = &r.expected {
        s.push_str(&format!("  expected: {e}\n"));
    }
    if let Some(a) = &r.actual {
        s.push_str(&format!("  actual:   {a}\n"));
    }
    for ex in &r.exchanges {
        s.push_str(&format!("  reproduce: {}\n", ex.curl));
    }
    Some(s)
}
