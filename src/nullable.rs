//! Serde for f64 values that may be NaN ("undefined"): JSON has no NaN, so
//! NaN is written as `null` and `null` read back as NaN.

use serde::{Deserialize, Deserializer, Serializer};

/// Serialize NaN as `null`.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() { serializer.serialize_none() } else { serializer.serialize_f64(*value) }
}

/// Deserialize `null` as NaN.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// The same for maps of values (`quantities`).
pub mod map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize NaN values as `null`.
    pub fn serialize<S: Serializer>(map: &BTreeMap<String, f64>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(k, v)| (k, (!v.is_nan()).then_some(*v))))
    }

    /// Deserialize `null` values as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let map = BTreeMap::<String, Option<f64>>::deserialize(deserializer)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.unwrap_or(f64::NAN))).collect())
    }
}

/// The same for maps of series (`per_seed`).
pub mod map_of_series {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize NaN values as `null`.
    pub fn serialize<S: Serializer>(map: &BTreeMap<String, Vec<f64>>, serializer: S) -> Result<S::Ok, S::Error> {
        let nullable = |v: &Vec<f64>| v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect::<Vec<_>>();
        serializer.collect_map(map.iter().map(|(k, v)| (k, nullable(v))))
    }

    /// Deserialize `null` values as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
        let map = BTreeMap::<String, Vec<Option<f64>>>::deserialize(deserializer)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())).collect())
    }
}

/// A series of f64 with NaN as `null`.
pub mod series {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize NaN values as `null`.
    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(|x| (!x.is_nan()).then_some(*x)))
    }

    /// Deserialize `null` values as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(deserializer)?.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}
