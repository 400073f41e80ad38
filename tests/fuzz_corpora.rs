//! The fuzz targets on stable: every committed corpus file and every stored regression of
//! `fuzz/` replayed through the same `dialtone::fuzzing` functions the fuzzers call.
//!
//! `cargo test --test fuzz_corpora -- --ignored regenerate` rewrites the seed corpora from
//! the specs, their examples and what the emulator and codecs produce (`fuzz/README.md`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dialtone::codec;
use dialtone::emulator::faults::Faults;
use dialtone::emulator::Emulator;
use dialtone::fuzzing::TARGETS;
use dialtone::profile::Profile;
use serde_json::Value;

use common::{bundled, client_runtime, spec as load};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_file());
    out.sort();
    out
}

#[test]
fn every_target_replays_its_corpus_and_regressions() {
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name} is empty or missing: regenerate the corpora"
        );
        let regressions = files(&fuzz_dir().join("regressions").join(name));
        for file in corpus.iter().chain(&regressions) {
            let data = std::fs::read(file).unwrap();
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "inputs that fail their target:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_fuzz_target_file_and_no_more() {
    let declared: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    let on_disk: BTreeSet<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    assert_eq!(declared, on_disk);
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for n in &declared {
        assert!(
            manifest.contains(&format!("name = \"{n}\"")),
            "fuzz/Cargo.toml has no [[bin]] {n}"
        );
    }
}

// ---------------------------------------------------------------------------
// Corpus generation

struct Corpus {
    dir: PathBuf,
    n: usize,
}

impl Corpus {
    fn new(target: &str) -> Corpus {
        let dir = fuzz_dir().join("corpus").join(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Corpus { dir, n: 0 }
    }
    fn add(&mut self, label: &str, data: impl AsRef<[u8]>) {
        let data = data.as_ref();
        if data.len() > 64 << 10 || self.n >= 48 {
            return;
        }
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        std::fs::write(self.dir.join(format!("{:02}-{label}", self.n)), data).unwrap();
        self.n += 1;
    }
}

/// A small deterministic byte stream (xorshift), for the structured targets' seeds.
struct Bytes(u64);
impl Bytes {
    fn take(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 24) as u8
            })
            .collect()
    }
}

fn spec_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in dialtone::spec::BUNDLED {
        out.extend(files(&dialtone::spec::resolve(n)));
    }
    out
}

struct Rendered {
    json: Vec<(String, Vec<u8>)>,
    xml: Vec<(String, Vec<u8>)>,
    csv: Vec<(String, Vec<u8>)>,
    errors: Vec<(String, String, u16, Vec<u8>)>,
}

/// What the emulator answers to each endpoint's GET, in each format it offers.
fn rendered(emu: &Arc<Emulator>) -> Rendered {
    use axum::body::Body;
    use axum::http::Request;
    use base64::Engine as _;
    use http_body_util::BodyExt as _;
    let rt = client_runtime();
    let mut out = Rendered {
        json: vec![],
        xml: vec![],
        csv: vec![],
        errors: vec![],
    };
    for api in emu.apis() {
        let spec = &api.spec;
        let auth = spec.auth();
        let top = api.accounts().first().cloned();
        for ep in spec.endpoints() {
            for accept in ["application/json", "application/xml", "text/csv"] {
                let mut b = Request::builder()
                    .method("GET")
                    .uri(dialtone::sample::path(spec, ep))
                    .header("accept", accept);
                for (h, v) in &auth.required_headers {
                    b = b.header(h.as_str(), v.as_str());
                }
                if let Some(a) = &top {
                    let v = if a.bearer {
                        format!(
                            "{} {}",
                            auth.prefix.as_deref().unwrap_or("Bearer"),
                            a.secret
                        )
                    } else {
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD
                                .encode(format!("{}:{}", a.user, a.secret))
                        )
                    };
                    b = b.header(auth.header.as_str(), v);
                }
                let req = b.body(Body::empty()).unwrap();
                let (status, ct, body) = rt.block_on(async {
                    let r = emu.handle(req).await;
                    let status = r.status().as_u16();
                    let ct = r
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
                    (status, ct, body)
                });
                let label = format!("{}-{}", spec.name(), ep.id.get_ref());
                if status >= 400 {
                    out.errors
                        .push((spec.name().to_string(), ct.clone(), status, body.clone()));
                }
                if ct.contains("json") {
                    out.json.push((label, body));
                } else if ct.contains("xml") {
                    out.xml.push((label, body));
                } else if ct.contains("csv") {
                    out.csv.push((label, body));
                }
            }
        }
    }
    for v in [&mut out.json, &mut out.xml, &mut out.csv] {
        let mut seen = BTreeSet::new();
        v.retain(|(_, b)| seen.insert(b.clone()));
    }
    out
}

/// Spread `items` over at most `n` evenly spaced picks, so every API is represented.
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

#[test]
#[ignore = "rewrites fuzz/corpus; run with --ignored regenerate"]
fn regenerate_corpora() {
    let specs: Vec<dialtone::spec::Spec> = bundled();
    let emu = Arc::new(Emulator::new(bundled(), Faults::default()).unwrap());
    let r = rendered(&emu);
    let mut rng = Bytes(0x9E37_79B9_7F4A_7C15);

    // spec_load: spec files, the good fixture, every broken fixture.
    let mut c = Corpus::new("spec_load");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for f in files(&fixtures.join("good"))
        .into_iter()
        .chain(files(&fixtures.join("broken")))
    {
        c.add(
            &format!("fixture-{}", f.file_stem().unwrap().to_string_lossy()),
            std::fs::read(&f).unwrap(),
        );
    }
    for f in spread(&spec_files(), 16) {
        let name = format!(
            "{}-{}",
            f.parent().unwrap().file_name().unwrap().to_string_lossy(),
            f.file_stem().unwrap().to_string_lossy()
        );
        c.add(&name, std::fs::read(&f).unwrap());
    }

    // profile_load: the emulator's profiles, and profiles naming environment variables.
    let mut c = Corpus::new("profile_load");
    c.add(
        "emulator-all",
        Profile::for_emulator(
            &emu.accounts(),
            &emu.api_names(),
            "http://127.0.0.1:8080",
            false,
        )
        .to_toml(),
    );
    c.add(
        "emulator-all-tls",
        Profile::for_emulator(
            &emu.accounts(),
            &emu.api_names(),
            "https://127.0.0.1:8443",
            true,
        )
        .to_toml(),
    );
    for s in &specs {
        let one = Emulator::new(vec![load(s.name())], Faults::default()).unwrap();
        c.add(
            &format!("emulator-{}", s.name()),
            Profile::for_emulator(
                &one.accounts(),
                &one.api_names(),
                "http://localhost:9000",
                false,
            )
            .to_toml(),
        );
    }
    c.add(
        "device-env",
        "[target]\nurl = \"https://10.0.0.5:8443\"\napi = \"mediant\"\n\n[tls]\nca_file = \"ca.pem\"\nserver_name = \"mediant.lab\"\n\n[accounts.admin]\nuser = \"Admin\"\npassword_env = \"MEDIANT_ADMIN_PASSWORD\"\n\n[accounts.\"rome.operator\"]\ntoken_env = \"ROME_TOKEN\"\n",
    );
    c.add(
        "plain-on-device",
        "[target]\nurl = \"https://10.0.0.5\"\n[accounts.admin]\nuser = \"Admin\"\npassword = \"Admin\"\n",
    );
    c.add(
        "two-secrets",
        "[target]\nurl = \"http://x\"\nemulator = true\n[accounts.admin]\npassword = \"a\"\ntoken = \"b\"\n",
    );

    // json_decode / xml_decode / csv_decode: what the emulator renders, sample bodies and
    // seed rows through the writers.
    let mut json = Corpus::new("json_decode");
    for (l, b) in spread(&r.json, 30) {
        json.add(&l, b);
    }
    let mut xml = Corpus::new("xml_decode");
    for (l, b) in spread(&r.xml, 30) {
        xml.add(&l, b);
    }
    let mut csv = Corpus::new("csv_decode");
    for (l, b) in spread(&r.csv, 30) {
        csv.add(&l, b);
    }
    for s in &specs {
        for ep in s.endpoints() {
            for op in &ep.op {
                if let Some((ct, body)) = dialtone::sample::body(s, op) {
                    let l = format!(
                        "sample-{}-{}-{}",
                        s.name(),
                        ep.id.get_ref(),
                        op.method.get_ref()
                    );
                    if ct.contains("json") {
                        json.add(&l, &body);
                        if let Ok(v) = codec::from_json(&body) {
                            xml.add(&l, codec::to_xml("item", &v));
                        }
                    } else if ct.contains("xml") {
                        xml.add(&l, &body);
                    } else if ct.contains("csv") {
                        csv.add(&l, &body);
                    }
                }
            }
        }
    }
    for api in emu.apis() {
        for t in api.table_names() {
            let table = api.table(t).unwrap();
            let rows: Vec<Value> = table
                .snapshot()
                .values()
                .take(5)
                .map(|r| r.to_value())
                .collect();
            if !rows.is_empty() {
                csv.add(
                    &format!("rows-{}-{t}", api.name()),
                    codec::to_csv(table.columns(), &rows),
                );
            }
        }
    }
    xml.add("entities-cdata-comment", "<?xml version=\"1.0\"?><!-- c --><a k=\"v\"><b>x &amp; &#65;</b><c>p <![CDATA[<q>]]> r</c><e/></a>");
    xml.add("doctype", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>");
    csv.add(
        "bom-quotes",
        "\u{FEFF}id,name\n1,\"a, \"\"b\"\"\"\n2,\"x\ny\"\n",
    );
    json.add(
        "nested",
        "{\"a\":[1,2.5e3,-0,true,null,{\"b\":\"\\u00e9\\n\"}]}",
    );

    // multipart: the boundary line, then a body written by the codecs.
    let mut c = Corpus::new("multipart");
    let (ct, body) = dialtone::sample::multipart("file", "ini.txt", b";Board: Mediant SW\n");
    let b = ct.split("boundary=").nth(1).unwrap().to_string();
    c.add("sample-file", [b.as_bytes(), b"\n", &body].concat());
    let parts = vec![
        codec::Part {
            name: "file".into(),
            filename: Some("cli.txt".into()),
            content_type: Some("application/octet-stream".into()),
            data: bytes::Bytes::from_static(b"configure voip\r\n  exit\r\n"),
        },
        codec::Part {
            name: "note".into(),
            filename: None,
            content_type: None,
            data: bytes::Bytes::from_static(b""),
        },
    ];
    let bnd = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    c.add(
        "two-parts",
        [
            bnd.as_bytes(),
            b"\n",
            &codec::write_multipart(&parts, bnd).unwrap(),
        ]
        .concat(),
    );
    c.add(
        "quoted-boundary",
        "\"a b\"\n--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--a b--\r\n",
    );

    // zip_upload: archives of rendered bodies, and the `name\0content\x01...` member form.
    let mut c = Corpus::new("zip_upload");
    let members: Vec<(String, Vec<u8>)> = r
        .csv
        .iter()
        .take(2)
        .map(|(l, b)| (format!("{l}.csv"), b.clone()))
        .chain(
            r.xml
                .iter()
                .take(2)
                .map(|(l, b)| (format!("{l}.xml"), b.clone())),
        )
        .collect();
    c.add("rendered", codec::write_zip(&members));
    c.add(
        "one-member",
        codec::write_zip(&[("routes.csv".into(), b"id,name\n1,a\n".to_vec())]),
    );
    c.add("empty-archive", codec::write_zip(&[]));
    c.add(
        "big-member",
        codec::write_zip(&[("z.txt".into(), vec![b'0'; 100_000])]),
    );
    c.add(
        "member-records",
        b"a.csv\x00id\n1\n\x01dir/b.xml\x00<r/>\x01../evil\x00x",
    );

    // rome_query: the grammar's examples (digest L139, the emulator's vendor module).
    let mut c = Corpus::new("rome_query");
    for q in [
        "alias like '%TEST%'",
        "alias like '%TEST%' and digitMatch = '1212'",
        "digitMatch='5551212'",
        "clusterID = '1' AND alias LIKE 'a_c'",
        "alias like",
        "alias = 'x' or b = 'y'",
        "alias = 'unterminated",
        "x = '' and y like '%%%%_'",
    ] {
        c.add(q, q);
    }

    // kpi_path: the §10 example URLs (digest §3).
    let mut c = Corpus::new("kpi_path");
    for p in [
        "/kpi",
        "/kpi/interval",
        "/kpi/current",
        "/kpi/history/sbc",
        "/kpi/current/sbc/callStats",
        "/kpi/current/sbc/callstats/ipGroup",
        "/kpi/current/sbc/callStats/ipGroup/0",
        "/kpi/current/sbc/callStats/ipGroup/0/abnormalTerminatedCallsInTotal",
        "/kpi/current/sbc/callStats/global/busyCallsInTotal",
        "/kpi/interval/2/sbc/callStats/global/x",
        "current/media/dspStats",
    ] {
        c.add(p, p);
    }

    // The structured targets: deterministic random prefixes, some with a real body after.
    let mut c = Corpus::new("paging_params");
    for i in 0..16 {
        let mut d = rng.take(8 + i * 3);
        d.extend_from_slice(
            ["limit", "10", "after", "-1", "page", " 2 ", "0", "x"][i % 8].as_bytes(),
        );
        c.add(&format!("random-{i}"), d);
    }
    let mut c = Corpus::new("envelope_decode");
    for (i, (api, ct, status, body)) in spread(&r.errors, 20).into_iter().enumerate() {
        let mut d = rng.take(12);
        d.extend_from_slice(&body);
        c.add(&format!("{api}-{status}-{}", ct.replace('/', "-")), d);
        let _ = i;
    }
    for (l, b) in spread(&r.json, 6).into_iter().chain(spread(&r.xml, 6)) {
        let mut d = rng.take(12);
        d.extend_from_slice(&b);
        c.add(&l, d);
    }
    let mut c = Corpus::new("emulator");
    for i in 0..40 {
        let mut d = rng.take(16 + i * 5);
        if i % 4 == 0 {
            if let Some((_, b)) = r.json.get(i) {
                d.extend_from_slice(b);
            }
        }
        c.add(&format!("random-{i}"), d);
    }
}
