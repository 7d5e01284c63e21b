//! Smart search: an upload flows through thumbnails to CLIP, its embedding lands in
//! `smart_search`, and `/search/smart` finds it by text or by a similar photo, within what the
//! caller may see; changing the model re-sizes the embeddings.

use darkroom_storage::database::VectorExtension;
use darkroom_tests::ml::{CLIP_DIMENSION, MlService, only};
use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn upload(server: &TestServer, token: &str, name: &str, seed: u32) -> String {
    let path = std::env::temp_dir().join(format!("darkroom-smart-{}-{name}", uuid::Uuid::new_v4().simple()));
    fixtures::jpeg_with_exif(&path, seed);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(token, name, &bytes, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

/// Waits until `count` assets have CLIP embeddings.
async fn wait_for_embeddings(server: &TestServer, ml: &MlService, count: i64) {
    let mut db = server.db().await;
    for _ in 0..600 {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM smart_search")
            .fetch_one(&mut db)
            .await
            .unwrap();
        if stored >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{count} embeddings were never stored; darkroom-ml said:\n{}",
        ml.log_text()
    );
}

async fn smart(server: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    let reply = server
        .call(Method::POST, "/api/search/smart", Some(token), Some(body))
        .await;
    (reply.status, reply.body)
}

fn ids(found: &Value) -> Vec<String> {
    found["assets"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {found}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

async fn dimension(server: &TestServer) -> i32 {
    sqlx::query_scalar(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'smart_search'::regclass AND attname = 'embedding'",
    )
    .fetch_one(&mut server.db().await)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_found_by_text_and_by_a_similar_photo() {
    let ml = MlService::start();
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", &ml.url)]).await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "stranger@example.com").await;
    server.update_config(&admin, |config| only(config, &["clip"])).await;
    let beach = upload(&server, &admin, "beach.jpg", 11).await;
    let forest = upload(&server, &admin, "forest.jpg", 12).await;
    wait_for_embeddings(&server, &ml, 2).await;
    let stored: String = sqlx::query_scalar(r#"SELECT embedding::text FROM smart_search WHERE "assetId" = $1::uuid"#)
        .bind(&beach)
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    assert_eq!(stored.split(',').count(), CLIP_DIMENSION);

    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    assert_eq!(features["smartSearch"], json!(true), "{features}");

    // By text (non-ASCII, as people type): every photo, nearest first, one page.
    let (status, found) = smart(
        &server,
        &admin,
        json!({"query": "Strand im Sommer, 海边", "language": "de"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let mut by_text = ids(&found);
    by_text.sort();
    let mut both = vec![beach.clone(), forest.clone()];
    both.sort();
    assert_eq!(by_text, both);
    assert_eq!(found["assets"]["nextPage"], Value::Null);
    // Paging: one per page, the second page says there is none after it.
    let (_, first) = smart(&server, &admin, json!({"query": "sea", "size": 1})).await;
    assert_eq!(first["assets"]["nextPage"], json!("2"));
    let (_, second) = smart(&server, &admin, json!({"query": "sea", "size": 1, "page": 2})).await;
    assert_eq!(second["assets"]["nextPage"], Value::Null);
    assert_ne!(ids(&first), ids(&second));

    // By a photo: that photo itself is nearest.
    let (status, similar) = smart(&server, &admin, json!({"queryAssetId": beach})).await;
    assert_eq!(status, StatusCode::OK, "{similar}");
    assert_eq!(ids(&similar)[0], beach);
    let (_, similar) = smart(&server, &admin, json!({"queryAssetId": forest})).await;
    assert_eq!(ids(&similar)[0], forest);

    // Filters apply as in the metadata search.
    let (_, favourites) = smart(&server, &admin, json!({"query": "sea", "isFavorite": true})).await;
    assert!(ids(&favourites).is_empty());
    let (_, videos) = smart(&server, &admin, json!({"query": "sea", "type": "VIDEO"})).await;
    assert!(ids(&videos).is_empty());
    let (_, camera) = smart(
        &server,
        &admin,
        json!({"query": "sea", "make": "Darkroom", "withExif": true}),
    )
    .await;
    assert_eq!(ids(&camera).len(), 2);
    assert_eq!(camera["assets"]["items"][0]["exifInfo"]["make"], json!("Darkroom"));

    // Another user sees none of it, and may not search by the admin's photo.
    let (_, theirs) = smart(&server, &user, json!({"query": "sea"})).await;
    assert!(ids(&theirs).is_empty());
    let (status, refused) = smart(&server, &user, json!({"queryAssetId": beach})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["message"],
        json!("Not found or no asset.read access"),
        "{refused}"
    );

    // Neither a text nor a photo; a photo without an embedding.
    let (status, neither) = smart(&server, &admin, json!({"query": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        neither["message"],
        json!("Either `query` or `queryAssetId` must be set")
    );
    sqlx::query(r#"DELETE FROM smart_search WHERE "assetId" = $1::uuid"#)
        .bind(&forest)
        .execute(&mut server.db().await)
        .await
        .unwrap();
    let (status, missing) = smart(&server, &admin, json!({"queryAssetId": forest})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["message"], json!(format!("Asset {forest} has no embedding")));

    // "Missing" on the jobs page makes it again.
    let started = server
        .call(
            Method::PUT,
            "/api/jobs/smartSearch",
            Some(&admin),
            Some(json!({"command": "start", "force": false})),
        )
        .await;
    assert!(started.status.is_success(), "{}", started.body);
    wait_for_embeddings(&server, &ml, 2).await;

    // Switched off, the search says so.
    server
        .update_config(&admin, |config| {
            config["machineLearning"]["clip"]["enabled"] = json!(false)
        })
        .await;
    let (status, off) = smart(&server, &admin, json!({"query": "sea"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(off["message"], json!("Smart search is not enabled"));
    let features = server.call(Method::GET, "/api/server/features", None, None).await.body;
    assert_eq!(features["smartSearch"], json!(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_model_resizes_and_empties_the_embeddings() {
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_URL", "http://127.0.0.1:9")]).await;
    let admin = server.admin_token().await;
    assert_eq!(dimension(&server).await, 512);
    let mut db = server.db().await;
    let asset = upload(&server, &admin, "a.jpg", 3).await;
    let zeros = format!("[{}]", vec!["0.1"; 512].join(","));
    sqlx::query(r#"INSERT INTO smart_search ("assetId", embedding) VALUES ($1::uuid, $2::vector)"#)
        .bind(&asset)
        .bind(&zeros)
        .execute(&mut db)
        .await
        .unwrap();

    // A model Immich does not list is refused before anything changes.
    let mut config = server
        .call(Method::GET, "/api/system-config", Some(&admin), None)
        .await
        .body;
    config["machineLearning"]["clip"]["modelName"] = json!("ViT-Z-99__nowhere");
    let refused = server
        .call(Method::PUT, "/api/system-config", Some(&admin), Some(config))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["message"],
        json!(
            "Unknown CLIP model: ViT-Z-99__nowhere. Please check the model name for typos and confirm this is a supported model."
        )
    );
    assert_eq!(dimension(&server).await, 512);

    // Same dimension, other model: the old embeddings go.
    server
        .update_config(&admin, |config| {
            config["machineLearning"]["clip"]["modelName"] = json!("ViT-B-16__openai")
        })
        .await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM smart_search")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // Another dimension: the column follows, and the index is there to use.
    server
        .update_config(&admin, |config| {
            config["machineLearning"]["clip"]["modelName"] = json!("ViT-B-16-SigLIP2__webli")
        })
        .await;
    assert_eq!(dimension(&server).await, 768);
    let index: String = sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'clip_index'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(index.contains("hnsw"), "{index}");

    // Unreachable machine learning: the features say so once checked, the search fails clearly.
    let mut unavailable = json!(true);
    for _ in 0..100 {
        unavailable = server.call(Method::GET, "/api/server/features", None, None).await.body["smartSearch"].clone();
        if unavailable == json!(false) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(unavailable, json!(false));
    let (status, failed) = smart(&server, &admin, json!({"query": "sea"})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{failed}");
}

/// With thousands of embeddings the search goes through `clip_index` (Immich users see
/// seconds per search when it does not), and still finds the exact match first.
#[tokio::test(flavor = "multi_thread")]
async fn the_search_uses_the_vector_index() {
    let server = TestServer::start_with(&[("IMMICH_MACHINE_LEARNING_ENABLED", "true")]).await;
    let admin = server.admin_token().await;
    let me = server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body;
    let mut db = server.db().await;
    sqlx::query(
        r#"INSERT INTO asset (id, "ownerId", type, "originalPath", "fileCreatedAt", "fileModifiedAt", "localDateTime",
                              checksum, "checksumAlgorithm", "originalFileName")
           SELECT gen_random_uuid(), $1::uuid, 'IMAGE', '/upload/' || g, now() - g * interval '1 hour', now(), now(),
                  decode(md5(g::text), 'hex'), 'sha1', g || '.jpg'
           FROM generate_series(1, 3000) g"#,
    )
    .bind(me["id"].as_str().unwrap())
    .execute(&mut db)
    .await
    .unwrap();
    // Built in bulk afterwards (by the server's own code), which is far quicker than row by row.
    sqlx::query("DROP INDEX clip_index").execute(&mut db).await.unwrap();
    sqlx::query(
        r#"INSERT INTO smart_search ("assetId", embedding)
           SELECT a.id, (SELECT array_agg(random()::real) FROM generate_series(1, 512) WHERE a.id IS NOT NULL)::vector
           FROM asset a"#,
    )
    .execute(&mut db)
    .await
    .unwrap();
    darkroom_storage::embeddings::ensure_indexes(&server.state().db, VectorExtension::PgVector)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(&mut db).await.unwrap();
    let index_scans = || async {
        sqlx::query_scalar::<_, i64>("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'clip_index'")
            .fetch_one(&mut server.db().await)
            .await
            .unwrap()
    };
    let before = index_scans().await;
    let target: String = sqlx::query_scalar(r#"SELECT "assetId"::text FROM smart_search LIMIT 1 OFFSET 1234"#)
        .fetch_one(&mut db)
        .await
        .unwrap();
    let (status, found) = smart(&server, &admin, json!({"queryAssetId": target})).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(ids(&found).len(), 100);
    assert_eq!(ids(&found)[0], target);
    assert_eq!(found["assets"]["nextPage"], json!("2"));
    // Statistics reach the view when the connection that searched flushes them: at once, or
    // after PostgreSQL's idle interval of ten seconds.
    let mut after = before;
    for _ in 0..200 {
        after = index_scans().await;
        if after > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(after > before, "the first page did not go through clip_index");
    // Deeper pages (which the planner may answer by sorting exactly, at this size) are full.
    for page in 2..=3 {
        let (status, found) = smart(&server, &admin, json!({"queryAssetId": target, "page": page})).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(ids(&found).len(), 100);
        assert_eq!(found["assets"]["nextPage"], json!((page + 1).to_string()));
    }
}
