//! Album activity: members comment and like, owners moderate.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::user_id;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_comment_and_like_and_owners_moderate() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let member = server.user_token(&owner, "member@example.com").await;
    let stranger = server.user_token(&owner, "stranger@example.com").await;
    let member_id = user_id(&server, &member).await;
    let photo = server
        .upload(&owner, "p.png", b"\x89PNG\r\n\x1a\n pixels", &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_photo = server
        .upload(&owner, "q.png", b"\x89PNG\r\n\x1a\n other", &[])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let album = server
        .call(Method::POST, "/api/albums", Some(&owner), Some(json!({"albumName": "Trip", "assetIds": [photo], "albumUsers": [{"userId": member_id, "role": "viewer"}]})))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |token: &str, body: Value| {
        let (server, token) = (&server, token.to_string());
        async move {
            server
                .call(Method::POST, "/api/activities", Some(&token), Some(body))
                .await
        }
    };

    let comment = post(
        &member,
        json!({"albumId": album, "type": "comment", "comment": "Lovely!"}),
    )
    .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    assert_eq!(
        (
            comment.body["type"].clone(),
            comment.body["user"]["id"].clone(),
            comment.body["assetId"].clone()
        ),
        (json!("comment"), json!(member_id), Value::Null)
    );
    let like = post(&member, json!({"albumId": album, "assetId": photo, "type": "like"})).await;
    assert_eq!(like.status, StatusCode::CREATED);
    // A second like answers the first with 200, as Immich does (its spec lists only 201).
    let again = server
        .request(Method::POST, "/api/activities")
        .bearer_auth(&member)
        .json(&json!({"albumId": album, "assetId": photo, "type": "like"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap()["id"],
        like.body["id"],
        "one like each"
    );
    assert_eq!(
        post(&member, json!({"albumId": album, "type": "comment"})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&member, json!({"albumId": album, "type": "like", "comment": "x"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(
            &member,
            json!({"albumId": album, "assetId": other_photo, "type": "like"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST,
        "not in the album"
    );
    let outsider = post(&stranger, json!({"albumId": album, "type": "comment", "comment": "hi"})).await;
    assert_eq!(
        (outsider.status, outsider.message()),
        (StatusCode::BAD_REQUEST, "Not found or no activity.create access")
    );

    let all = server
        .call(
            Method::GET,
            &format!("/api/activities?albumId={album}"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let likes = server
        .call(
            Method::GET,
            &format!("/api/activities?albumId={album}&type=like"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(likes.as_array().unwrap().len(), 1);
    let album_level = server
        .call(
            Method::GET,
            &format!("/api/activities?albumId={album}&level=album"),
            Some(&owner),
            None,
        )
        .await
        .body;
    assert_eq!(album_level[0]["comment"], json!("Lovely!"));
    let stats = server
        .call(
            Method::GET,
            &format!("/api/activities/statistics?albumId={album}"),
            Some(&member),
            None,
        )
        .await
        .body;
    assert_eq!(stats, json!({"comments": 1, "likes": 1}));
    assert_eq!(
        server
            .call(
                Method::GET,
                &format!("/api/activities?albumId={album}"),
                Some(&stranger),
                None
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Authors and the album's owner delete; others do not.
    let comment_id = comment.body["id"].as_str().unwrap().to_string();
    let like_id = like.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/activities/{comment_id}"),
                Some(&stranger),
                None
            )
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/activities/{comment_id}"),
                Some(&owner),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .call(
                Method::DELETE,
                &format!("/api/activities/{like_id}"),
                Some(&member),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Switched off: no new activity.
    server
        .call(
            Method::PATCH,
            &format!("/api/albums/{album}"),
            Some(&owner),
            Some(json!({"isActivityEnabled": false})),
        )
        .await;
    assert_eq!(
        post(&member, json!({"albumId": album, "type": "like"})).await.status,
        StatusCode::BAD_REQUEST
    );
}
