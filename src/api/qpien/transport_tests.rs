//! Decoding of Qpien answers: error codes, envelopes, batches and partial
//! answers, malformed rows.

use serde_json::json;

use super::*;
use crate::api::qpien::operations::conversation_list;

fn decode(status: u16, body: Value) -> ApiResult<conversation_list::ResponseData> {
    decode_response(status, body.to_string().as_bytes(), "getConversationList")
}

fn err(status: u16, body: Value) -> ApiError {
    decode(status, body).unwrap_err()
}

fn error_body(code: &str) -> Value {
    json!({"data": null, "errors": [{"message": "nope", "extensions": {"code": code}}]})
}

#[test]
fn maps_each_error_code() {
    assert_eq!(
        err(200, error_body("UNAUTHORIZED")),
        ApiError::Unauthorized("nope".into())
    );
    assert_eq!(
        err(401, error_body("TOKEN_EXPIRED")),
        ApiError::TokenExpired
    );
    assert_eq!(
        err(200, error_body("INVALID_CLIENT")),
        ApiError::InvalidCredentials("nope".into())
    );
    assert_eq!(
        err(200, error_body("GRAPHQL_VALIDATION_FAILED")),
        ApiError::SchemaMismatch("nope".into())
    );
    assert_eq!(
        err(200, error_body("SOMETHING_ELSE")),
        ApiError::Rejected {
            code: None,
            message: "nope".into()
        }
    );
    // A 403 says the action is not allowed, not that the token is stale.
    let not_allowed = ApiError::Rejected {
        code: Some(403),
        message: "not allowed: nope".into(),
    };
    assert_eq!(err(403, error_body("SOMETHING_ELSE")), not_allowed);
    assert_eq!(
        err(403, json!({"errors": [{"message": "nope"}]})),
        not_allowed
    );
    assert_eq!(err(403, json!({"message": "nope"})), not_allowed);
    assert!(matches!(
        decode_response::<Value>(403, b"Forbidden", "x"),
        Err(ApiError::Rejected { code: Some(403), message }) if message.starts_with("not allowed")
    ));
    // The codes that do speak of the token still say so, whatever the status.
    assert_eq!(
        err(403, error_body("UNAUTHENTICATED")),
        ApiError::Unauthorized("nope".into())
    );
    assert_eq!(
        err(401, json!({"message": "nope"})),
        ApiError::Unauthorized("nope".into())
    );
    let scopes = json!({"data": null, "errors": [{
        "message": "Insufficient scopes for this operation",
        "extensions": {"code": "INSUFFICIENT_SCOPES", "requiredScope": "write_conversations"},
        "success": false
    }]});
    assert_eq!(
        err(200, scopes),
        ApiError::InsufficientScope {
            scope: Some("write_conversations".into())
        }
    );
    let no_scope =
        json!({"errors": [{"message": "x", "extensions": {"code": "INSUFFICIENT_SCOPES"}}]});
    assert_eq!(
        err(403, no_scope),
        ApiError::InsufficientScope { scope: None }
    );
}

#[test]
fn validation_messages_are_schema_mismatch() {
    for msg in [
        "Cannot query field \"foo\" on type \"Query\".",
        "Unknown argument \"bar\" on field \"getContact\".",
    ] {
        let body = json!({"errors": [{"message": msg}]});
        assert!(matches!(
            decode(400, body),
            Err(ApiError::SchemaMismatch(_))
        ));
    }
}

#[test]
fn auth_error_wins_over_others() {
    let body = json!({"errors": [
        {"message": "bad", "extensions": {"code": "BAD_USER_INPUT"}},
        {"message": "old", "extensions": {"code": "TOKEN_EXPIRED"}}
    ]});
    assert_eq!(err(200, body), ApiError::TokenExpired);
}

#[test]
fn envelope_failure_is_rejected_or_not_found() {
    let body = json!({"data": {"getConversationList": {"success": false, "code": 400, "message": "bad \u{1b}[31mpage"}}});
    assert_eq!(
        err(200, body),
        ApiError::Rejected {
            code: Some(400),
            message: "bad page".into()
        }
    );
    let body = json!({"data": {"getConversationList": {"success": false, "code": "404", "message": "gone"}}});
    assert_eq!(err(200, body), ApiError::NotFound("gone".into()));
    // Refusals of a write (invalid input, a state conflict, an agent who
    // cannot take work) are final: the app rolls the change back.
    for code in [400, 404, 409, 422] {
        let body = json!({"data": {"getConversationList": {"success": false, "code": code, "message": "no"}}});
        let error = err(200, body);
        assert!(!error.is_transient(), "{code}: {error:?}");
    }
}

#[test]
fn server_errors_and_garbage() {
    assert!(matches!(
        decode_response::<Value>(503, b"<html><title>Down</title></html>", "x"),
        Err(ApiError::Server { status: 503, .. })
    ));
    assert!(matches!(
        decode_response::<Value>(500, br#"{"message":"boom"}"#, "x"),
        Err(ApiError::Server { status: 500, .. })
    ));
    assert!(matches!(
        decode_response::<Value>(200, b"\xff\xfe garbage", "x"),
        Err(ApiError::Decode(_))
    ));
    assert!(matches!(
        decode_response::<Value>(200, b"[1,2,3]", "x"),
        Err(ApiError::Decode(_))
    ));
    assert!(matches!(
        decode_response::<Value>(200, b"{\"data\":{\"y\":{}}}", "x"),
        Err(ApiError::Decode(m)) if m.contains("`x`")
    ));
    assert!(matches!(
        decode_response::<Value>(401, b"Unauthorized", "x"),
        Err(ApiError::Unauthorized(_))
    ));
}

#[test]
fn missing_required_field_is_named_with_its_path() {
    let body = json!({"data": {"getConversationList": {
        "success": true, "code": 200,
        "data": {"totalDocs": 0, "page": 1, "hasNextPage": false}
    }}});
    match decode(200, body) {
        Err(ApiError::Decode(m)) => {
            assert!(m.contains("missing field `docs`"), "{m}");
            assert!(m.contains("data.getConversationList.data"), "{m}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn string_code_and_unknown_fields_are_tolerated() {
    let body = json!({"data": {"getConversationList": {
        "success": true, "code": "200", "extra": {"a": 1},
        "data": {"totalDocs": 1, "hasNextPage": false, "somethingNew": true,
                 "docs": [{"_id": "c1", "status": "SNOOZED", "futureField": [1]}]}
    }}, "extensions": {"cost": 3}});
    let data = decode(200, body).unwrap();
    let page = data.get_conversation_list.data.unwrap();
    assert_eq!(page.docs.len(), 1);
    assert_eq!(data.get_conversation_list.code, Some(200));
}

fn contact_vars(id: &str) -> crate::api::qpien::operations::contact::Variables {
    use crate::api::qpien::operations::contact as op;
    op::Variables {
        input: op::GetContactInput {
            contact_id: id.into(),
        },
    }
}

#[test]
fn batch_document_aliases_each_operation_with_its_own_variables() {
    use crate::api::qpien::operations::Contact;
    let body = batch_body::<Contact>(vec![contact_vars("p1"), contact_vars("p2")]).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let query = body["query"].as_str().unwrap();
    assert!(
        query
            .starts_with("query Batch($a0_input: GetContactInput!, $a1_input: GetContactInput!) {"),
        "{query}"
    );
    assert!(
        query.contains("a0: getContact(input: $a0_input) {"),
        "{query}"
    );
    assert!(
        query.contains("a1: getContact(input: $a1_input) {"),
        "{query}"
    );
    assert!(!query.contains('#'), "comments are dropped: {query}");
    // The selection is the checked document's own.
    assert_eq!(query.matches("phoneUsagePermission").count(), 2);
    assert_eq!(
        body["variables"],
        json!({"a0_input": {"contactId": "p1"}, "a1_input": {"contactId": "p2"}})
    );
    // The whole document parses as GraphQL.
    async_graphql_parser::parse_query(query).expect("valid document");
}

fn contact_envelope(id: &str) -> Value {
    json!({"success": true, "code": "200", "data": {"_id": id, "firstName": "A", "avatar": ""}})
}

#[test]
fn one_failing_alias_does_not_fail_the_others() {
    let body = json!({
        "data": {
            "a0": contact_envelope("p0"),
            "a1": null,
            "a2": {"success": false, "code": 404, "message": "Contact not found", "data": null},
            "a3": contact_envelope("p3"),
            "a4": null
        },
        "errors": [{"message": "boom", "path": ["a4", "data"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    });
    let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 5).unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(
        results[0].as_ref().unwrap()["getContact"]["data"]["_id"],
        "p0"
    );
    assert_eq!(results[0].as_ref().unwrap()["getContact"]["code"], 200);
    assert!(matches!(&results[1], Err(ApiError::Decode(m)) if m.contains("a1")));
    assert!(matches!(&results[2], Err(ApiError::NotFound(_))));
    assert!(results[3].is_ok());
    assert!(matches!(&results[4], Err(ApiError::Server { .. })));
}

#[test]
fn a_lost_data_object_fails_only_the_aliases_without_their_own_error() {
    let body = json!({"data": null, "errors": [{"message": "x", "path": ["a1"]}]});
    let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 2).unwrap();
    assert!(matches!(&results[0], Err(ApiError::Decode(m)) if m.contains("lost")));
    assert!(matches!(&results[1], Err(ApiError::Rejected { .. })));
}

#[test]
fn request_wide_failures_fail_the_batch() {
    // A validation error has no alias path.
    let body = json!({"data": null, "errors": [{"message": "Cannot query field \"x\""}]});
    assert!(matches!(
        decode_batch(200, body.to_string().as_bytes(), "getContact", 2),
        Err(ApiError::SchemaMismatch(_))
    ));
    // Every alias shares the token: an expired one fails them all, so
    // the caller refreshes it and replays the request.
    let body = json!({"data": null, "errors": [
        {"message": "old", "path": ["a0"], "extensions": {"code": "TOKEN_EXPIRED"}},
        {"message": "old", "path": ["a1"], "extensions": {"code": "TOKEN_EXPIRED"}}
    ]});
    assert_eq!(
        decode_batch(200, body.to_string().as_bytes(), "getContact", 2).unwrap_err(),
        ApiError::TokenExpired
    );
    assert!(matches!(
        decode_batch(503, b"down", "getContact", 2),
        Err(ApiError::Server { status: 503, .. })
    ));
}

#[test]
fn malformed_rows_are_pruned_and_counted() {
    use crate::api::qpien::operations::contact_list as op;
    let mut data = json!({"getContactList": {"success": true, "data": {
    "totalDocs": 3, "hasNextPage": false, "docs": [
        {"_id": "p1", "firstName": "A", "avatar": ""},
        {"firstName": "no id", "avatar": ""},
        {"_id": "p3", "firstName": 7, "avatar": ""},
        {"_id": "p4", "firstName": "D", "avatar": ""}
    ]}}});
    let skipped = prune_rows::<op::ContactListGetContactListDataDocs>(
        &mut data,
        "/getContactList/data/docs",
        "contact",
    );
    assert_eq!(skipped, 2);
    let decoded: op::ResponseData = decode_data(&data).unwrap();
    let ids: Vec<String> = decoded
        .get_contact_list
        .data
        .unwrap()
        .docs
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, vec!["p1", "p4"]);
    assert_eq!(prune_rows::<Value>(&mut json!({}), "/nothing/here", "x"), 0);
}

#[test]
fn queries_are_reads_and_mutations_writes() {
    let body = |doc: &str| json!({"query": doc, "variables": {}}).to_string();
    assert!(is_query(body("query Q($a: Int) { x }").as_bytes()));
    assert!(is_query(
        body("# a comment\n  query Batch { a0: x }").as_bytes()
    ));
    assert!(is_query(body("{ x }").as_bytes()));
    assert!(!is_query(body("mutation M { x }").as_bytes()));
    assert!(!is_query(body("queryish").as_bytes()));
    assert!(!is_query(b"not json"));
    use crate::api::qpien::operations::Contact;
    let read = Transport::body::<Contact>(contact_vars("p1")).unwrap();
    assert!(is_query(&read));
    let batch = batch_body::<Contact>(vec![contact_vars("p1"), contact_vars("p2")]).unwrap();
    assert!(is_query(&batch));
    for doc in [
        include_str!("../../../assets/graphql/create_message.graphql"),
        include_str!("../../../assets/graphql/generate_oauth_token.graphql"),
        include_str!("../../../assets/graphql/update_conversation.graphql"),
    ] {
        assert!(!is_query(body(doc).as_bytes()), "{doc}");
    }
    for doc in [
        include_str!("../../../assets/graphql/messages.graphql"),
        include_str!("../../../assets/graphql/conversation_list.graphql"),
    ] {
        assert!(is_query(body(doc).as_bytes()), "{doc}");
    }
}

#[test]
fn a_partial_answer_keeps_the_aliases_that_have_data() {
    // A root field null with its own error, the others answered.
    let body = json!({
        "data": {"a0": contact_envelope("p0"), "a1": null, "a2": contact_envelope("p2")},
        "errors": [{"message": "Contact lookup failed", "path": ["a1"]}]
    });
    let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 3).unwrap();
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_eq!(
        results[1],
        Err(ApiError::Rejected {
            code: None,
            message: "Contact lookup failed".into()
        })
    );
    // A single operation with a partial error is that error, in words.
    let single = json!({
        "data": {"getConversationList": null},
        "errors": [{"message": "Conversation list failed", "path": ["getConversationList"],
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    });
    let error = err(200, single);
    assert_eq!(
        error,
        ApiError::Server {
            status: 500,
            message: "Conversation list failed".into()
        }
    );
    assert!(error.is_transient());
}
