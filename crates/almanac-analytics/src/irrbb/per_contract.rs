//! Per-contract values of a run ([`super::Options::per_contract`]): each contract's PV on the
//! base and every scenario market, as of the valuation date, from the bank's side (assets
//! positive, liabilities negative), in the units of the contract's currency. A contract with
//! flows in two currencies (an FX forward, a cross-currency swap) has its legs' PVs added as
//! they are, each in its own currency's units, unconverted: the EVE by currency keeps them
//! apart.
//!
//! They are held flat — the ids in one string, the PVs in one array, a row per contract — so a
//! million contracts are a handful of allocations rather than millions, and the engine's
//! workers add their rows without touching anything shared.

use std::sync::Arc;

/// The per-contract values of a run, in contract order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContractTable {
    /// Scenario names, `base` first: the columns.
    names: Arc<[String]>,
    /// The ids, one after the other.
    ids: String,
    /// Where each id ends in `ids`.
    ends: Vec<usize>,
    /// PVs of the primary view (behavioural when an assumption set is given), a row of
    /// `names.len()` per contract.
    pv: Vec<f64>,
    /// PVs of the contractual view, when the primary view is behavioural; rows as `pv`.
    contractual: Option<Vec<f64>>,
}

/// One contract's row of a [`ContractTable`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContractValues<'a> {
    /// Contract id.
    pub contract_id: &'a str,
    /// Scenario names, `base` first.
    pub names: &'a [String],
    /// PVs of the primary view by scenario, in `names` order.
    pub pv: &'a [f64],
    /// PVs of the contractual view, when the primary view is behavioural.
    pub contractual: Option<&'a [f64]>,
}

impl ContractTable {
    /// An empty table with columns `names`; `contractual` when the primary view is
    /// behavioural (each row then has its contractual PVs too).
    pub fn new(names: Arc<[String]>, contractual: bool) -> ContractTable {
        ContractTable {
            names,
            contractual: contractual.then(Vec::new),
            ..ContractTable::default()
        }
    }

    /// The scenario names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of contracts.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds a contract's row. `pv` has one value per scenario name; `contractual` is given
    /// exactly when the table was made with the contractual view.
    ///
    /// # Panics
    /// When the row does not fit the table: a caller's error, not a data error.
    pub fn push(&mut self, id: &str, pv: &[f64], contractual: Option<&[f64]>) {
        assert_eq!(pv.len(), self.names.len(), "a row per scenario name");
        self.ids.push_str(id);
        self.ends.push(self.ids.len());
        self.pv.extend_from_slice(pv);
        match (&mut self.contractual, contractual) {
            (Some(all), Some(c)) => {
                assert_eq!(c.len(), self.names.len(), "a row per scenario name");
                all.extend_from_slice(c);
            }
            (None, None) => {}
            _ => panic!("contractual values exactly when the table has the contractual view"),
        }
    }

    /// Removes every row, keeping the columns and the storage.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.ends.clear();
        self.pv.clear();
        if let Some(c) = &mut self.contractual {
            c.clear();
        }
    }

    /// Adds `other`'s rows after this table's.
    pub fn append(&mut self, other: &ContractTable) {
        let offset = self.ids.len();
        self.ids.push_str(&other.ids);
        self.ends.extend(other.ends.iter().map(|e| e + offset));
        self.pv.extend_from_slice(&other.pv);
        if let (Some(all), Some(c)) = (&mut self.contractual, &other.contractual) {
            all.extend_from_slice(c);
        }
    }

    /// Contract `i`'s id.
    ///
    /// # Panics
    /// When `i` is out of range.
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.ids[start..self.ends[i]]
    }

    /// Contract `i`'s row.
    ///
    /// # Panics
    /// When `i` is out of range.
    pub fn row(&self, i: usize) -> ContractValues<'_> {
        let w = self.names.len();
        ContractValues {
            contract_id: self.id(i),
            names: &self.names,
            pv: &self.pv[i * w..(i + 1) * w],
            contractual: self.contractual.as_ref().map(|c| &c[i * w..(i + 1) * w]),
        }
    }

    /// Contract `i`'s PVs, primary view then (if held) contractual, to change.
    ///
    /// # Panics
    /// When `i` is out of range.
    pub fn values_mut(&mut self, i: usize) -> (&mut [f64], Option<&mut [f64]>) {
        let w = self.names.len();
        (
            &mut self.pv[i * w..(i + 1) * w],
            self.contractual
                .as_mut()
                .map(|c| &mut c[i * w..(i + 1) * w]),
        )
    }

    /// The rows in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ContractValues<'_>> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }
}

impl<'a> IntoIterator for &'a ContractTable {
    type Item = ContractValues<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = ContractValues<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl ContractValues<'_> {
    /// The primary view's PV in scenario `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|k| self.pv[k])
    }
}

/// `{"contract_id": …, "pv": {"base": …, …}}`, with `"pv_contractual"` when held.
impl serde::Serialize for ContractValues<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Named<'a>(&'a [String], &'a [f64]);
        impl serde::Serialize for Named<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (n, v) in self.0.iter().zip(self.1) {
                    m.serialize_entry(n, v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("contract_id", self.contract_id)?;
        m.serialize_entry("pv", &Named(self.names, self.pv))?;
        if let Some(c) = self.contractual {
            m.serialize_entry("pv_contractual", &Named(self.names, c))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Arc<[String]> {
        ["base", "parallel_up"].map(String::from).into()
    }

    #[test]
    fn rows_come_back_as_pushed_and_appended() {
        let mut a = ContractTable::new(names(), false);
        a.push("A-1", &[1.0, 2.0], None);
        a.push("", &[3.0, 4.0], None);
        let mut b = ContractTable::new(names(), false);
        b.push("B-ü", &[5.0, 6.0], None);
        a.append(&b);
        assert_eq!(a.len(), 3);
        let ids: Vec<&str> = a.iter().map(|r| r.contract_id).collect();
        assert_eq!(ids, ["A-1", "", "B-ü"]);
        assert_eq!(a.row(2).pv, &[5.0, 6.0]);
        assert_eq!(a.row(1).get("parallel_up"), Some(4.0));
        assert_eq!(a.row(1).get("nope"), None);
        a.values_mut(0).0[1] += 10.0;
        assert_eq!(a.row(0).pv, &[1.0, 12.0]);
        assert_eq!(
            serde_json::to_string(&a.row(0)).unwrap(),
            r#"{"contract_id":"A-1","pv":{"base":1.0,"parallel_up":12.0}}"#
        );
    }

    #[test]
    fn the_contractual_view_rides_along() {
        let mut a = ContractTable::new(names(), true);
        a.push("x", &[1.0, 2.0], Some(&[3.0, 4.0]));
        let mut b = ContractTable::new(names(), true);
        b.push("y", &[5.0, 6.0], Some(&[7.0, 8.0]));
        a.append(&b);
        assert_eq!(a.row(1).contractual, Some(&[7.0, 8.0][..]));
        let (pv, c) = a.values_mut(1);
        pv[0] = 0.5;
        c.unwrap()[0] = 0.25;
        assert_eq!(
            serde_json::to_string(&a.row(1)).unwrap(),
            r#"{"contract_id":"y","pv":{"base":0.5,"parallel_up":6.0},"pv_contractual":{"base":0.25,"parallel_up":8.0}}"#
        );
    }
}
