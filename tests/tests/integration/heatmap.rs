//! The account page's calendar heatmap: a year of days by default, uploads or photos taken,
//! Immich's validation, and the admin's view of another user.

use darkroom_tests::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn the_calendar_heatmap_counts_uploads_and_photos_taken_per_day() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let user = server.user_token(&admin, "heat@example.com").await;
    let user_id = server.call(Method::GET, "/api/users/me", Some(&user), None).await.body["id"]
        .as_str()
        .expect("id")
        .to_string();
    let png = darkroom_tests::fixtures::png_bytes();
    for (seed, taken) in [
        (1u8, "2024-03-10T23:30:00.000Z"),
        (2, "2024-03-10T08:00:00.000Z"),
        (3, "2024-03-12T12:00:00.000Z"),
    ] {
        let mut file = png.clone();
        file.push(seed);
        let reply = server
            .upload(&user, "photo.png", &file, &[("fileCreatedAt", taken)])
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    let year = server
        .call(Method::GET, "/api/users/me/calendar-heatmap", Some(&user), None)
        .await;
    assert_eq!(year.status, StatusCode::OK, "{}", year.body);
    let series = year.body["series"].as_array().expect("series");
    assert_eq!(series.len(), 364, "52 weeks, today included");
    assert_eq!(year.body["to"], json!(chrono::Utc::now().date_naive().to_string()));
    assert_eq!(
        series.last().expect("today")["count"],
        json!(3),
        "all three uploaded today"
    );
    assert_eq!(year.body["totalCount"], json!(3));

    let march = "/api/users/me/calendar-heatmap?from=2024-03-09&to=2024-03-12&type=Taken";
    let taken = server.call(Method::GET, march, Some(&user), None).await.body;
    let counts: Vec<(Value, Value)> = taken["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|d| (d["date"].clone(), d["count"].clone()))
        .collect();
    assert_eq!(
        counts,
        [
            ("2024-03-09", 0),
            ("2024-03-10", 2),
            ("2024-03-11", 0),
            ("2024-03-12", 1)
        ]
        .map(|(d, c)| (json!(d), json!(c))),
        "{taken}"
    );
    assert_eq!(
        (taken["from"].clone(), taken["to"].clone(), taken["totalCount"].clone()),
        (json!("2024-03-09"), json!("2024-03-12"), json!(3))
    );

    // The admin's view of the same user, and Immich's refusals.
    let admin_view = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{user_id}/calendar-heatmap?from=2024-03-10&to=2024-03-10&type=Taken"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(admin_view.body["series"], json!([{"date": "2024-03-10", "count": 2}]));
    let backwards = server
        .call(
            Method::GET,
            "/api/users/me/calendar-heatmap?from=2024-03-12&to=2024-03-01",
            Some(&user),
            None,
        )
        .await;
    assert_eq!(
        (backwards.status, backwards.body["errors"][0]["path"].clone()),
        (StatusCode::BAD_REQUEST, json!(["from"]))
    );
    let not_a_date = server
        .call(
            Method::GET,
            "/api/users/me/calendar-heatmap?to=2024-13-01",
            Some(&user),
            None,
        )
        .await;
    assert_eq!(
        (not_a_date.status, not_a_date.body["errors"][0]["path"].clone()),
        (StatusCode::BAD_REQUEST, json!(["to"]))
    );
    let wrong_type = server
        .call(
            Method::GET,
            "/api/users/me/calendar-heatmap?type=Edited",
            Some(&user),
            None,
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    let nobody = server
        .call(
            Method::GET,
            &format!("/api/admin/users/{}/calendar-heatmap", uuid::Uuid::new_v4()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (nobody.status, nobody.message()),
        (StatusCode::BAD_REQUEST, "User not found")
    );
}
