//! `almanac actus conformance`.

use std::path::Path;

use almanac_actus::conformance::{parse_suite, ExpectedFailures, Report};
use anyhow::{Context, Result};

/// Runs every suite file in `dir` and `dir/upstream-after-v1.0`; true when nothing outside the
/// expected-failures list failed.
pub(crate) fn run(dir: &Path, json: Option<&Path>) -> Result<bool> {
    let mut files = Vec::new();
    for d in [dir.to_path_buf(), dir.join("upstream-after-v1.0")] {
        if !d.is_dir() {
            if d == dir {
                anyhow::bail!("{}: not a folder of ACTUS test files", d.display());
            }
            continue;
        }
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    let expected = ExpectedFailures::builtin();
    let mut report = Report::default();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let cases = parse_suite(&text).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        report.add_cases(&cases, &expected);
    }
    print!("{}", report.table());
    for f in report.failures.iter().filter(|f| !f.expected) {
        println!("FAILED {}: {}", f.id, f.reason);
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report.is_success())
}
