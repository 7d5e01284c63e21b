//! People, faces, recognised text and edits of an Immich database reaching their owner's phone.

use darkroom_tests::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

use super::{expect_once, settle, upload, user_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_of_an_immich_database_reach_their_owners_phone() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let me = server.call(Method::GET, "/api/users/me", Some(&owner), None).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // People as a database Immich filled them (machine_learning::sync_of_faces has recognised ones).
    let person: String = sqlx::query_scalar(r#"INSERT INTO person ("ownerId", name, "birthDate") VALUES ($1::uuid, 'Sam', '1990-02-03') RETURNING id::text"#)
        .bind(&me)
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    let lines = expect_once(&server, &owner, &["PeopleV1"], &["PersonV1"]).await;
    let data = &lines[0]["data"];
    assert_eq!(
        (data["id"].clone(), data["name"].clone(), data["ownerId"].clone()),
        (json!(person), json!("Sam"), json!(me))
    );
    assert_eq!(
        (
            data["birthDate"].clone(),
            data["faceAssetId"].clone(),
            data["isHidden"].clone()
        ),
        (json!("1990-02-03T00:00:00.000Z"), Value::Null, json!(false))
    );
    expect_once(&server, &other, &["PeopleV1"], &[]).await;

    sqlx::query(r#"UPDATE person SET name = 'Samantha' WHERE id = $1::uuid"#)
        .bind(&person)
        .execute(&mut server.db().await)
        .await
        .unwrap();
    let renamed = expect_once(&server, &owner, &["PeopleV1"], &["PersonV1"]).await;
    assert_eq!(renamed[0]["data"]["name"], json!("Samantha"));
    sqlx::query(r#"DELETE FROM person WHERE id = $1::uuid"#)
        .bind(&person)
        .execute(&mut server.db().await)
        .await
        .unwrap();
    let gone = expect_once(&server, &owner, &["PeopleV1"], &["PersonDeleteV1"]).await;
    assert_eq!(gone[0]["data"], json!({"personId": person}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_text_and_edits_of_an_immich_database_reach_their_owners_phone() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let me = user_id(&server, &owner).await;
    let asset = upload(&server, &owner, 41).await;
    settle(&server, &owner).await;
    let types = ["AssetFacesV2", "AssetOcrV1", "AssetEditsV1"];
    expect_once(&server, &owner, &types, &[]).await;
    expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;

    // Faces, text and edits as a database Immich filled them.
    let mut db = server.db().await;
    let person: String =
        sqlx::query_scalar(r#"INSERT INTO person ("ownerId", name) VALUES ($1::uuid, 'Sam') RETURNING id::text"#)
            .bind(&me)
            .fetch_one(&mut db)
            .await
            .unwrap();
    let face: String = sqlx::query_scalar(
        r#"INSERT INTO asset_face ("assetId", "personId", "imageWidth", "imageHeight", "boundingBoxX1", "boundingBoxY1", "boundingBoxX2", "boundingBoxY2")
           VALUES ($1::uuid, $2::uuid, 640, 480, 10, 20, 110, 140) RETURNING id::text"#,
    )
    .bind(&asset)
    .bind(&person)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let ocr: String = sqlx::query_scalar(
        r#"INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
           VALUES ($1::uuid, 0.25, 0.5, 0.75, 0.5, 0.75, 0.625, 0.25, 0.625, 0.875, 0.5, 'EXIT') RETURNING id::text"#,
    )
    .bind(&asset)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let edit: String = sqlx::query_scalar(
        r#"INSERT INTO asset_edit ("assetId", action, parameters, sequence) VALUES ($1::uuid, 'rotate', '{"angle": 90}', 0) RETURNING id::text"#,
    )
    .bind(&asset)
    .fetch_one(&mut db)
    .await
    .unwrap();

    let lines = expect_once(&server, &owner, &types, &["AssetOcrV1", "AssetFaceV2", "AssetEditV1"]).await;
    let by_kind = |kind: &str| lines.iter().find(|l| l["type"] == json!(kind)).unwrap()["data"].clone();
    assert_eq!(
        by_kind("AssetFaceV2"),
        json!({"id": face, "assetId": asset, "personId": person, "imageWidth": 640, "imageHeight": 480, "boundingBoxX1": 10, "boundingBoxY1": 20,
               "boundingBoxX2": 110, "boundingBoxY2": 140, "sourceType": "machine-learning", "deletedAt": null, "isVisible": true})
    );
    assert_eq!(
        by_kind("AssetOcrV1"),
        json!({"id": ocr, "assetId": asset, "x1": 0.25, "y1": 0.5, "x2": 0.75, "y2": 0.5, "x3": 0.75, "y3": 0.625, "x4": 0.25, "y4": 0.625,
               "boxScore": 0.875, "textScore": 0.5, "text": "EXIT", "isVisible": true})
    );
    assert_eq!(
        by_kind("AssetEditV1"),
        json!({"id": edit, "assetId": asset, "action": "rotate", "parameters": {"angle": 90}, "sequence": 0})
    );
    // An edit marks its asset edited, which the phone hears as a change of the asset.
    let edited = expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;
    assert_eq!(edited[0]["data"]["isEdited"], json!(true));
    expect_once(&server, &other, &types, &[]).await;

    sqlx::query(r#"UPDATE asset_face SET "personId" = NULL WHERE id = $1::uuid"#)
        .bind(&face)
        .execute(&mut db)
        .await
        .unwrap();
    let unassigned = expect_once(&server, &owner, &types, &["AssetFaceV2"]).await;
    assert_eq!(unassigned[0]["data"]["personId"], Value::Null);

    sqlx::query(r#"DELETE FROM asset_face WHERE id = $1::uuid"#)
        .bind(&face)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM asset_ocr WHERE id = $1::uuid"#)
        .bind(&ocr)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query(r#"DELETE FROM asset_edit WHERE id = $1::uuid"#)
        .bind(&edit)
        .execute(&mut db)
        .await
        .unwrap();
    let gone = expect_once(
        &server,
        &owner,
        &types,
        &["AssetOcrDeleteV1", "AssetFaceDeleteV1", "AssetEditDeleteV1"],
    )
    .await;
    let by_kind = |kind: &str| gone.iter().find(|l| l["type"] == json!(kind)).unwrap()["data"].clone();
    assert_eq!(by_kind("AssetFaceDeleteV1"), json!({"assetFaceId": face}));
    assert_eq!(by_kind("AssetEditDeleteV1"), json!({"editId": edit}));
    let text_gone = by_kind("AssetOcrDeleteV1");
    assert_eq!(text_gone["assetId"], json!(asset));
    assert!(
        text_gone["id"].is_string() && text_gone["deletedAt"].as_str().unwrap().ends_with('Z'),
        "{text_gone}"
    );
    let unedited = expect_once(&server, &owner, &["AssetsV2"], &["AssetV2"]).await;
    assert_eq!(unedited[0]["data"]["isEdited"], json!(false));

    // What goes with its asset is told by the asset's own delete, not one line per face.
    sqlx::query(r#"INSERT INTO asset_face ("assetId") VALUES ($1::uuid)"#)
        .bind(&asset)
        .execute(&mut db)
        .await
        .unwrap();
    expect_once(&server, &owner, &types, &["AssetFaceV2"]).await;
    sqlx::query(r#"DELETE FROM asset WHERE id = $1::uuid"#)
        .bind(&asset)
        .execute(&mut db)
        .await
        .unwrap();
    expect_once(&server, &owner, &types, &[]).await;
    expect_once(&server, &owner, &["AssetsV2"], &["AssetDeleteV1"]).await;
}
