//! Stacks: merged, given a lead and taken apart, by their owner only.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::upload;

fn asset_ids(stack: &Value) -> Vec<String> {
    stack["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacks_merge_lead_and_come_apart_for_their_owner_only() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let [a, b, c, d] = [
        upload(&server, &owner, 1, false).await,
        upload(&server, &owner, 2, false).await,
        upload(&server, &owner, 3, false).await,
        upload(&server, &owner, 4, false).await,
    ];
    let theirs = upload(&server, &other, 5, false).await;

    let too_few = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a]})),
        )
        .await;
    assert_eq!(too_few.status, StatusCode::BAD_REQUEST);
    let foreign = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a, theirs]})),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (StatusCode::BAD_REQUEST, "Not found or no asset.update access")
    );

    let first = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [a, b]})),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        (first.body["primaryAssetId"].clone(), asset_ids(&first.body)),
        (json!(a), vec![a.clone(), b.clone()])
    );
    let first_id = first.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{b}"), Some(&owner), None)
            .await
            .body["stack"]["id"],
        json!(first_id)
    );

    // A stack whose primary joins another stack merges into it.
    let merged = server
        .call(
            Method::POST,
            "/api/stacks",
            Some(&owner),
            Some(json!({"assetIds": [c, a, d]})),
        )
        .await;
    let mut members = asset_ids(&merged.body);
    assert_eq!(members[0], c, "the first asset leads");
    members.sort();
    let mut all = vec![a.clone(), b.clone(), c.clone(), d.clone()];
    all.sort();
    assert_eq!(members, all);
    let stack_id = merged.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/stacks/{first_id}"), Some(&owner), None)
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "the old stack is gone"
    );

    let not_member = server
        .call(
            Method::PUT,
            &format!("/api/stacks/{stack_id}"),
            Some(&owner),
            Some(json!({"primaryAssetId": theirs})),
        )
        .await;
    assert_eq!(not_member.message(), "Primary asset must be in the stack");
    let led = server
        .call(
            Method::PUT,
            &format!("/api/stacks/{stack_id}"),
            Some(&owner),
            Some(json!({"primaryAssetId": d})),
        )
        .await;
    assert_eq!(led.body["primaryAssetId"], json!(d));
    let listed = server
        .call(
            Method::GET,
            &format!("/api/stacks?primaryAssetId={d}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let primary_out = server
        .call(
            Method::DELETE,
            &format!("/api/stacks/{stack_id}/assets/{d}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(primary_out.message(), "Cannot remove stack's primary asset");
    let stranger_out = server
        .call(
            Method::DELETE,
            &format!("/api/stacks/{stack_id}/assets/{theirs}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(stranger_out.message(), "Asset not in stack");
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/stacks/{stack_id}/assets/{b}"),
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        asset_ids(
            &server
                .call(Method::GET, &format!("/api/stacks/{stack_id}"), Some(&owner), None)
                .await
                .body
        )
        .len(),
        3
    );

    // Nobody else sees or touches it.
    let peek = server
        .call(Method::GET, &format!("/api/stacks/{stack_id}"), Some(&other), None)
        .await;
    assert_eq!(
        (peek.status, peek.message()),
        (StatusCode::BAD_REQUEST, "Not found or no stack.read access")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/stacks/{stack_id}"), Some(&other), None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.call(Method::GET, "/api/stacks", Some(&other), None).await.body,
        json!([])
    );

    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/stacks",
                Some(&owner),
                Some(json!({"ids": [stack_id]}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{c}"), Some(&owner), None)
            .await
            .body["stack"],
        Value::Null
    );
}
