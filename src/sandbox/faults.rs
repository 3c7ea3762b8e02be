//! Response rewriting for injected faults: applied to the serialized body so
//! the GraphQL engine never has to lie.

use std::collections::HashSet;

use serde_json::Value;

use super::{Faults, Malformed};

/// Rewrites every JSON object under the top-level `data`.
pub(crate) fn rewrite(body: &mut Value, faults: &Faults) {
    if let Some(data) = body.get_mut("data") {
        walk(data, faults);
    }
}

fn walk(v: &mut Value, faults: &Faults) {
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                walk(child, faults);
            }
            if let Some(key) = &faults.drop_field {
                map.remove(key);
            }
            if faults.extra_unknown_fields {
                map.insert("zzUnknownField".into(), serde_json::json!({ "x": 1 }));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, faults)),
        _ => {}
    }
}

/// Breaks every object in an array under `v` whose `_id` is in `ids`.
pub(crate) fn malform(v: &mut Value, ids: &HashSet<String>, how: Malformed) {
    match v {
        Value::Object(map) => map.values_mut().for_each(|c| malform(c, ids, how)),
        Value::Array(items) => {
            for item in items.iter_mut() {
                let hit = item
                    .get("_id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| ids.contains(id));
                match item {
                    Value::Object(doc) if hit => {
                        let (key, value) = match how {
                            Malformed::NullId => ("_id", Value::Null),
                            Malformed::NullUpdatedAt => ("updatedAt", Value::Null),
                            Malformed::WrongTypeUpdatedAt => ("updatedAt", Value::Bool(true)),
                        };
                        doc.insert(key.into(), value);
                    }
                    _ => malform(item, ids, how),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_and_adds_only_under_data() {
        let mut body =
            json!({"data": {"a": {"_id": "1", "docs": [{"_id": "2"}]}}, "extensions": {"_id": 3}});
        let faults = Faults {
            extra_unknown_fields: true,
            drop_field: Some("_id".into()),
            ..Faults::default()
        };
        rewrite(&mut body, &faults);
        assert_eq!(body["data"]["a"].get("_id"), None);
        assert_eq!(body["data"]["a"]["docs"][0].get("_id"), None);
        assert_eq!(body["data"]["a"]["docs"][0]["zzUnknownField"]["x"], 1);
        assert_eq!(body["extensions"]["_id"], 3);
    }

    #[test]
    fn malform_touches_only_listed_docs_in_arrays() {
        let mut data =
            json!({"a": {"_id": "x", "docs": [{"_id": "x", "updatedAt": "t"}, {"_id": "y"}]}});
        let ids: HashSet<String> = ["x".to_string()].into();
        malform(&mut data, &ids, Malformed::WrongTypeUpdatedAt);
        assert_eq!(data["a"]["_id"], "x");
        assert_eq!(data["a"]["docs"][0]["updatedAt"], true);
        assert_eq!(data["a"]["docs"][1], json!({"_id": "y"}));
        malform(&mut data, &ids, Malformed::NullId);
        assert_eq!(data["a"]["docs"][0]["_id"], Value::Null);
    }
}
