//! What changed between two versions of a TOML document (assumption sets, scenario sets):
//! every leaf value under its dotted key, compared.

use std::collections::BTreeMap;

/// One difference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Change {
    /// Dotted key, e.g. `behaviour.prepayment.mortgages.cpr`.
    pub(crate) key: String,
    /// Value in the first document (`None`: added).
    pub(crate) before: Option<String>,
    /// Value in the second document (`None`: removed).
    pub(crate) after: Option<String>,
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// The differences between two TOML documents, by key.
pub(crate) fn diff(a: &str, b: &str) -> Result<Vec<Change>, toml::de::Error> {
    let (va, vb): (toml::Value, toml::Value) = (toml::from_str(a)?, toml::from_str(b)?);
    let (mut fa, mut fb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &va, &mut fa);
    flatten("", &vb, &mut fb);
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (fa.get(k), fb.get(k));
            (x != y).then(|| Change {
                key: k.clone(),
                before: x.cloned(),
                after: y.cloned(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_added_and_removed_keys() {
        let a = "name = \"x\"\n[behaviour.prepayment]\ncpr = 0.06\nold = 1\n[ftp]\nlp = [10, 35]\n";
        let b =
            "name = \"x\"\n[behaviour.prepayment]\ncpr = 0.08\n[ftp]\nlp = [10, 40]\nnew = true\n";
        let d = diff(a, b).unwrap();
        let keys: Vec<&str> = d.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "behaviour.prepayment.cpr",
                "behaviour.prepayment.old",
                "ftp.lp[1]",
                "ftp.new"
            ]
        );
        assert_eq!(d[0].before.as_deref(), Some("0.06"));
        assert_eq!(d[0].after.as_deref(), Some("0.08"));
        assert_eq!(d[1].after, None);
        assert_eq!(d[3].before, None);
        assert!(diff(a, a).unwrap().is_empty());
    }
}
