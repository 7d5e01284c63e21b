//! Faces moving between people, people merging and going, face thumbnails, recognised text,
//! and what another user gets for all of it.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{FACE_PERSON, UNKNOWN, face, person, scalar, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_move_between_people_and_people_merge() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let photos = [upload(&server, &owner, 6).await, upload(&server, &owner, 7).await];
    let theirs = person(&server, &other, json!({"name": "Theirs"})).await;
    let keeper = person(&server, &owner, json!({})).await;
    let bee = person(&server, &owner, json!({"name": "Bee", "birthDate": "1985-06-07"})).await;
    let cee = person(&server, &owner, json!({"name": "Cee"})).await;
    let keeper_face = face(&server, &owner, &keeper, &photos[0], 10).await;
    let bee_face = face(&server, &owner, &bee, &photos[1], 10).await;
    face(&server, &owner, &bee, &photos[0], 120).await;
    let cee_face = face(&server, &owner, &cee, &photos[1], 200).await;

    let faces = server
        .call(Method::GET, &format!("/api/faces?id={}", photos[0]), Some(&owner), None)
        .await
        .body;
    let faces = faces.as_array().unwrap();
    assert_eq!(faces.len(), 2);
    assert_eq!(
        (
            faces[0]["boundingBoxX1"].clone(),
            faces[0]["boundingBoxY1"].clone(),
            faces[0]["boundingBoxX2"].clone(),
            faces[0]["boundingBoxY2"].clone()
        ),
        (json!(10), json!(20), json!(50), json!(70)),
        "left to right, with the box as drawn"
    );
    assert_eq!(
        (faces[0]["imageWidth"].clone(), faces[0]["sourceType"].clone()),
        (json!(320), json!("manual"))
    );
    assert_eq!(faces[1]["person"]["name"], json!("Bee"));

    // Merging: faces move, the merged go, the keeper takes the name and birth date it lacked.
    let itself = server
        .call(
            Method::POST,
            &format!("/api/people/{keeper}/merge"),
            Some(&owner),
            Some(json!({"ids": [keeper]})),
        )
        .await;
    assert_eq!(
        (itself.status, itself.message()),
        (StatusCode::BAD_REQUEST, "Cannot merge a person into themselves")
    );
    let merged = server
        .call(
            Method::POST,
            &format!("/api/people/{keeper}/merge"),
            Some(&owner),
            Some(json!({"ids": [bee, theirs, bee]})),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK);
    assert_eq!(
        merged.body,
        json!([{"id": bee, "success": true}, {"id": theirs, "success": false, "error": "no_permission"}, {"id": bee, "success": false, "error": "not_found"}])
    );
    let kept = server
        .call(Method::GET, &format!("/api/people/{keeper}"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        (kept["name"].clone(), kept["birthDate"].clone()),
        (json!("Bee"), json!("1985-06-07"))
    );
    let gone = server
        .call(Method::GET, &format!("/api/people/{bee}"), Some(&owner), None)
        .await;
    assert_eq!(
        (gone.status, gone.message()),
        (StatusCode::BAD_REQUEST, "Not found or no person.read access")
    );
    assert_eq!(
        server
            .call(
                Method::GET,
                &format!("/api/people/{keeper}/statistics"),
                Some(&owner),
                None
            )
            .await
            .body,
        json!({"assets": 2})
    );
    let foreign = server
        .call(
            Method::POST,
            &format!("/api/people/{theirs}/merge"),
            Some(&owner),
            Some(json!({"ids": [cee]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no person.update access");

    // Reassigning: the keeper's faces on the second photo become Cee's; the answer repeats Cee.
    let moved = server
        .call(
            Method::PUT,
            &format!("/api/people/{cee}/reassign"),
            Some(&owner),
            Some(json!({"data": [{"personId": keeper, "assetId": photos[1]}]})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(
        moved
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].clone())
            .collect::<Vec<_>>(),
        [json!(cee)]
    );
    assert_eq!(
        scalar(&server, FACE_PERSON, &bee_face).await.as_deref(),
        Some(cee.as_str())
    );
    assert_eq!(
        scalar(&server, FACE_PERSON, &keeper_face).await.as_deref(),
        Some(keeper.as_str()),
        "faces on other photos stay"
    );

    // One face to another person: PUT /faces/{personId} {id: faceId} answers with the person.
    let one = server
        .call(
            Method::PUT,
            &format!("/api/faces/{keeper}"),
            Some(&owner),
            Some(json!({"id": cee_face})),
        )
        .await;
    assert_eq!((one.status, one.body["id"].clone()), (StatusCode::OK, json!(keeper)));
    assert_eq!(
        scalar(&server, FACE_PERSON, &cee_face).await.as_deref(),
        Some(keeper.as_str())
    );
    let not_mine = server
        .call(
            Method::PUT,
            &format!("/api/faces/{theirs}"),
            Some(&owner),
            Some(json!({"id": cee_face})),
        )
        .await;
    assert_eq!(not_mine.message(), "Not found or no person.update access");
    let no_face = server
        .call(
            Method::PUT,
            &format!("/api/faces/{keeper}"),
            Some(&owner),
            Some(json!({"id": UNKNOWN})),
        )
        .await;
    assert_eq!(no_face.message(), "Not found or no person.create access");

    // Deleting a face: marked deleted (the phone hears of it), or gone for good with force.
    let no_body = server
        .call(Method::DELETE, &format!("/api/faces/{keeper_face}"), Some(&owner), None)
        .await;
    assert_eq!(
        no_body.body["errors"][0],
        json!({"code": "invalid_type", "path": [], "message": "Invalid input: expected object, received undefined"})
    );
    let soft = server
        .call(
            Method::DELETE,
            &format!("/api/faces/{keeper_face}"),
            Some(&owner),
            Some(json!({"force": false})),
        )
        .await;
    assert_eq!(soft.status, StatusCode::NO_CONTENT);
    assert!(
        scalar(
            &server,
            r#"SELECT "deletedAt"::text FROM asset_face WHERE id = $1::uuid"#,
            &keeper_face
        )
        .await
        .is_some()
    );
    let left = server
        .call(Method::GET, &format!("/api/faces?id={}", photos[0]), Some(&owner), None)
        .await
        .body;
    assert!(
        left.as_array().unwrap().iter().all(|f| f["id"] != json!(keeper_face)),
        "{left}"
    );
    let hard = server
        .call(
            Method::DELETE,
            &format!("/api/faces/{cee_face}"),
            Some(&owner),
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(hard.status, StatusCode::NO_CONTENT);
    let audited = scalar(
        &server,
        r#"SELECT "assetFaceId"::text FROM asset_face_audit WHERE "assetFaceId" = $1::uuid"#,
        &cee_face,
    )
    .await;
    assert_eq!(audited.as_deref(), Some(cee_face.as_str()));

    // Deleting people: their faces stay, belonging to no one; all or nothing.
    let mixed = server
        .call(
            Method::DELETE,
            "/api/people",
            Some(&owner),
            Some(json!({"ids": [cee, theirs]})),
        )
        .await;
    assert_eq!(
        (mixed.status, mixed.message()),
        (StatusCode::BAD_REQUEST, "Not found or no person.delete access")
    );
    assert_eq!(
        server
            .call(Method::DELETE, &format!("/api/people/{cee}"), Some(&owner), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(scalar(&server, FACE_PERSON, &bee_face).await, None);
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/api/people",
                Some(&owner),
                Some(json!({"ids": [keeper]}))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let audit = scalar(
        &server,
        r#"SELECT "personId"::text FROM person_audit WHERE "personId" = $1::uuid"#,
        &keeper,
    )
    .await;
    assert_eq!(audit.as_deref(), Some(keeper.as_str()));
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/people/{theirs}"), Some(&other), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_text_and_other_users() {
    let server = TestServer::start().await;
    let owner = server.admin_token().await;
    let other = server.user_token(&owner, "other@example.com").await;
    let photo = upload(&server, &owner, 8).await;
    let ada = person(&server, &owner, json!({"name": "Ada"})).await;
    let ada_face = face(&server, &owner, &ada, &photo, 10).await;

    // No thumbnail (a person without faces): Immich's bare 404.
    let bea = person(&server, &owner, json!({"name": "Bea"})).await;
    let none = server
        .call(Method::GET, &format!("/api/people/{bea}/thumbnail"), Some(&owner), None)
        .await;
    assert_eq!((none.status, none.message()), (StatusCode::NOT_FOUND, "Not Found"));
    // The face drawn for Ada became her cover, and her thumbnail is cut from it.
    let mut cut = false;
    for _ in 0..200 {
        let reply = server
            .call(Method::GET, &format!("/api/people/{ada}/thumbnail"), Some(&owner), None)
            .await;
        cut = reply.status == StatusCode::OK && reply.bytes.starts_with(b"\xff\xd8");
        if cut {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(cut, "Ada's thumbnail was never cut");
    let file = server.media.join("thumbs").join("ada.jpeg");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"\xff\xd8\xff\xe0 a face \xff\xd9").unwrap();
    let mut db = server.db().await;
    sqlx::query(r#"UPDATE person SET "thumbnailPath" = $2 WHERE id = $1::uuid"#)
        .bind(&ada)
        .bind(file.to_str().unwrap())
        .execute(&mut db)
        .await
        .unwrap();
    let served = server
        .call(Method::GET, &format!("/api/people/{ada}/thumbnail"), Some(&owner), None)
        .await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(
        (
            served.headers["content-type"].to_str().unwrap(),
            served.headers["cache-control"].to_str().unwrap()
        ),
        ("image/jpeg", "private, no-cache, no-transform")
    );
    assert_eq!(served.bytes, std::fs::read(&file).unwrap());
    let peek = server
        .call(Method::GET, &format!("/api/people/{ada}/thumbnail"), Some(&other), None)
        .await;
    assert_eq!((peek.status, peek.message()), (StatusCode::NOT_FOUND, "Not Found"));
    sqlx::query(r#"UPDATE person SET "thumbnailPath" = '/etc/passwd' WHERE id = $1::uuid"#)
        .bind(&ada)
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/people/{ada}/thumbnail"), Some(&owner), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Recognised text: none, then what something wrote (the hidden box left out).
    assert_eq!(
        server
            .call(Method::GET, &format!("/api/assets/{photo}/ocr"), Some(&owner), None)
            .await
            .body,
        json!([])
    );
    let text: String = sqlx::query_scalar(
        r#"INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text)
           VALUES ($1::uuid, 0.1, 0.2, 0.3, 0.2, 0.3, 0.4, 0.1, 0.4, 0.9, 0.8, 'Ünïcode EXIT') RETURNING id::text"#,
    )
    .bind(&photo)
    .fetch_one(&mut db)
    .await
    .unwrap();
    sqlx::query(r#"INSERT INTO asset_ocr ("assetId", x1, y1, x2, y2, x3, y3, x4, y4, "boxScore", "textScore", text, "isVisible") VALUES ($1::uuid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'hidden', false)"#)
        .bind(&photo)
        .execute(&mut db)
        .await
        .unwrap();
    let read = server
        .call(Method::GET, &format!("/api/assets/{photo}/ocr"), Some(&owner), None)
        .await
        .body;
    assert_eq!(
        read,
        json!([{"id": text, "assetId": photo, "x1": 0.1, "y1": 0.2, "x2": 0.3, "y2": 0.2, "x3": 0.3, "y3": 0.4, "x4": 0.1, "y4": 0.4,
                "boxScore": 0.9, "textScore": 0.8, "text": "Ünïcode EXIT"}])
    );

    // A picture turned a quarter: faces and text are given where they are on the turned picture.
    sqlx::query(r#"INSERT INTO asset_edit ("assetId", action, parameters, sequence) VALUES ($1::uuid, 'rotate', '{"angle": 90}', 0)"#)
        .bind(&photo)
        .execute(&mut db)
        .await
        .unwrap();
    let turned = server
        .call(Method::GET, &format!("/api/faces?id={photo}"), Some(&owner), None)
        .await
        .body;
    let turned = &turned[0];
    // (x, y) on the 320×240 original lands at (240 − y, x) on the 240×320 result.
    assert_eq!(
        [
            &turned["boundingBoxX1"],
            &turned["boundingBoxY1"],
            &turned["boundingBoxX2"],
            &turned["boundingBoxY2"],
            &turned["imageWidth"],
            &turned["imageHeight"]
        ],
        [
            &json!(170),
            &json!(10),
            &json!(220),
            &json!(50),
            &json!(240),
            &json!(320)
        ],
        "{turned}"
    );
    let read = server
        .call(Method::GET, &format!("/api/assets/{photo}/ocr"), Some(&owner), None)
        .await
        .body;
    let first = &read[0];
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-6;
    assert!(
        close(&first["x1"], 0.6) && close(&first["y1"], 0.1) && close(&first["x3"], 0.8) && close(&first["y3"], 0.3),
        "{first}"
    );

    // Someone else gets Immich's access answers.
    for (method, path, body, message) in [
        (
            Method::GET,
            format!("/api/people/{ada}"),
            None,
            "Not found or no person.read access",
        ),
        (
            Method::GET,
            format!("/api/people/{ada}/statistics"),
            None,
            "Not found or no person.read access",
        ),
        (
            Method::PUT,
            format!("/api/people/{ada}"),
            Some(json!({"name": "X"})),
            "Not found or no person.update access",
        ),
        (
            Method::DELETE,
            format!("/api/people/{ada}"),
            None,
            "Not found or no person.delete access",
        ),
        (
            Method::GET,
            format!("/api/faces?id={photo}"),
            None,
            "Not found or no asset.read access",
        ),
        (
            Method::GET,
            format!("/api/assets/{photo}/ocr"),
            None,
            "Not found or no asset.read access",
        ),
        (
            Method::DELETE,
            format!("/api/faces/{ada_face}"),
            Some(json!({"force": true})),
            "Not found or no face.delete access",
        ),
        (
            Method::POST,
            "/api/faces".to_string(),
            Some(
                json!({"assetId": photo, "personId": ada, "imageWidth": 1, "imageHeight": 1, "x": 0, "y": 0, "width": 1, "height": 1}),
            ),
            "Not found or no asset.update access",
        ),
    ] {
        let reply = server.call(method.clone(), &path, Some(&other), body).await;
        assert_eq!(
            (reply.status, reply.message()),
            (StatusCode::BAD_REQUEST, message),
            "{method} {path}"
        );
    }
    // Their own person on my photo: still my photo.
    let theirs = person(&server, &other, json!({"name": "Theirs"})).await;
    let sneaky = json!({"assetId": photo, "personId": theirs, "imageWidth": 1, "imageHeight": 1, "x": 0, "y": 0, "width": 1, "height": 1});
    assert_eq!(
        server
            .call(Method::POST, "/api/faces", Some(&other), Some(sneaky))
            .await
            .message(),
        "Not found or no asset.update access"
    );
    assert_eq!(
        server.call(Method::GET, "/api/people", Some(&other), None).await.body["people"],
        json!([])
    );

    // API keys need the operation's permission.
    let key = server.api_key(&owner, &["asset.read"]).await;
    let refused = server
        .send(server.request(Method::GET, "/api/people").header("x-api-key", &key))
        .await;
    assert_eq!(
        (refused.status, refused.message()),
        (StatusCode::FORBIDDEN, "Missing required permission: person.read")
    );
    let allowed = server
        .send(
            server
                .request(Method::GET, &format!("/api/assets/{photo}/ocr"))
                .header("x-api-key", &key),
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
}
