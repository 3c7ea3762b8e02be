//! Response rewriting for injected faults: applied to the serialized body so
//! the GraphQL engine never has to lie.

use serde_json::Value;

use super::Faults;

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
}
