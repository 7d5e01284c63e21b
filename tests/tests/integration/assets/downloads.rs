//! Downloads split into archives and streamed as zips, and the folders view.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::photo;

#[tokio::test]
async fn downloads_are_split_into_archives_and_streamed_as_zips() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let other = server.user_token(&admin, "other@immich.cloud").await;
    let a = photo("zip-a");
    let b = photo("zip-b");
    let video = photo("zip-video");
    let video_id = server.upload(&admin, "clip.mov", &video, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a_id = server
        .upload(&admin, "same.jpg", &a, &[("livePhotoVideoId", &video_id)])
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_id = server.upload(&admin, "same.jpg", &b, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();

    let info = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&admin),
            Some(json!({"assetIds": [a_id, b_id], "archiveSize": 3000})),
        )
        .await;
    assert_eq!(info.status, StatusCode::CREATED);
    let archives = info.body["archives"].as_array().unwrap();
    assert_eq!(info.body["totalSize"], json!(a.len() + b.len() + video.len()));
    assert_eq!(
        archives.len(),
        2,
        "each archive closes once it passes 3,000 bytes: {}",
        info.body
    );
    assert!(
        archives
            .iter()
            .flat_map(|a| a["assetIds"].as_array().unwrap())
            .any(|id| *id == json!(video_id)),
        "the live photo's video comes along"
    );
    let mine = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&admin),
            Some(json!({"userId": server.call(Method::GET, "/api/users/me", Some(&admin), None).await.body["id"]})),
        )
        .await;
    let timeline = mine.body["archives"][0]["assetIds"].as_array().unwrap();
    assert_eq!(
        timeline.len(),
        3,
        "the two photos, and the hidden video once, as the live photo's motion"
    );
    assert_eq!(timeline.iter().filter(|id| **id == json!(video_id)).count(), 1);
    assert_eq!(
        server
            .call(Method::POST, "/api/download/info", Some(&admin), Some(json!({})))
            .await
            .message(),
        "assetIds, albumId, or userId is required"
    );
    let foreign = server
        .call(
            Method::POST,
            "/api/download/info",
            Some(&other),
            Some(json!({"assetIds": [a_id]})),
        )
        .await;
    assert_eq!(foreign.message(), "Not found or no asset.download access");

    let zip = server
        .send(
            server
                .request(Method::POST, "/api/download/archive")
                .bearer_auth(&admin)
                .json(&json!({"assetIds": [a_id, b_id, video_id]})),
        )
        .await;
    assert_eq!(zip.status, StatusCode::OK);
    assert_eq!(zip.headers["content-type"], "application/octet-stream");
    let dir = std::env::temp_dir().join(format!("darkroom-zip-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("download.zip"), &zip.bytes).unwrap();
    let check = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print('\\n'.join(i.filename + ' ' + str(i.file_size) for i in z.infolist()))")
        .arg(dir.join("download.zip"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let listing = String::from_utf8_lossy(&check.stdout).to_string();
    assert_eq!(
        listing.trim(),
        format!("same.jpg {}\nsame+1.jpg {}\nclip.mov {}", a.len(), b.len(), video.len())
    );
    let extract = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])")
        .arg(dir.join("download.zip"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(extract.success());
    assert_eq!(std::fs::read(dir.join("same+1.jpg")).unwrap(), b);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn folders_list_where_the_timeline_lives() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let id = server.upload(&admin, "a.jpg", &photo("folder"), &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .upload(&admin, "b.jpg", &photo("archived"), &[("visibility", "archive")])
        .await;
    let paths = server
        .call(Method::GET, "/api/view/folder/unique-paths", Some(&admin), None)
        .await
        .body;
    let asset = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body;
    let original = asset["originalPath"].as_str().unwrap();
    let folder = &original[..original.rfind('/').unwrap()];
    assert_eq!(paths, json!([folder]));
    let listed = server
        .call(
            Method::GET,
            &format!("/api/view/folder?path={folder}"),
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], json!(id));
    let other = server.user_token(&admin, "other@immich.cloud").await;
    assert_eq!(
        server
            .call(Method::GET, "/api/view/folder/unique-paths", Some(&other), None)
            .await
            .body,
        json!([])
    );
}
