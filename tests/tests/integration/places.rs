//! Places: geodata loaded at start (Immich's GeoNames layout and the smaller CSV that
//! scripts/setup installs), reverse geocoding of positions and photos, and place search.

use std::path::PathBuf;

use darkroom_tests::{TestServer, fixtures};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A build-data folder holding `geodata/<name>` files; removed when dropped.
struct BuildData(PathBuf);

impl BuildData {
    fn with(files: &[(&str, &str)]) -> Self {
        let root = std::env::temp_dir().join(format!("darkroom-build-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join("geodata")).unwrap();
        for (name, text) in files {
            std::fs::write(root.join("geodata").join(name), text).unwrap();
        }
        Self(root)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for BuildData {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SMALL_CITIES: &str = "lat,lon,name,admin1,admin2,cc
48.85341,2.3488,Paris,Ile-de-France,Paris,FR
52.52437,13.41053,Berlin,Berlin,,DE
48.13743,11.57549,München,Bavaria,Upper Bavaria,DE
47.25368,8.85654,\"Rueti / Dorfzentrum, Suedl. Teil\",Zurich,Bezirk Hinwil,CH
";

/// Waits for the start-up import, then returns the admin's token.
async fn imported(server: &TestServer, file: &str) -> String {
    let admin = server.admin_token().await;
    for _ in 0..200 {
        let state = server
            .call(
                Method::GET,
                "/api/system-metadata/reverse-geocoding-state",
                Some(&admin),
                None,
            )
            .await;
        if state.body["lastImportFileName"] == json!(file) {
            assert!(state.body["lastUpdate"].is_string(), "{}", state.body);
            return admin;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{file} was never imported");
}

async fn reverse_geocode(server: &TestServer, token: &str, query: &str) -> (StatusCode, Value) {
    let reply = server
        .call(
            Method::GET,
            &format!("/api/map/reverse-geocode?{query}"),
            Some(token),
            None,
        )
        .await;
    (reply.status, reply.body)
}

/// One quantized square "country" (Germany's numeric code) from 10°N 10°E to 20°N 20°E, far from
/// every place above.
const ATLAS_COUNTRIES: &str = r#"{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[10,10]},
  "arcs":[[[0,0],[20,0],[0,20],[-20,0],[0,-20]]],
  "objects":{"countries":{"type":"GeometryCollection","geometries":[{"type":"Polygon","id":"276","properties":{"name":"Germany"},"arcs":[[0]]}]}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_and_photos_are_named_after_the_nearest_place() {
    let build = BuildData::with(&[
        ("cities1000.csv", SMALL_CITIES),
        ("countries-10m.json", ATLAS_COUNTRIES),
    ]);
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.path())]).await;
    let admin = imported(&server, "cities1000.csv").await;

    let berlin = reverse_geocode(&server, &admin, "lat=52.5&lon=13.4").await;
    assert_eq!(
        berlin,
        (
            StatusCode::OK,
            json!([{"city": "Berlin", "state": "Berlin", "country": "Germany"}])
        )
    );
    let nowhere = reverse_geocode(&server, &admin, "lat=0&lon=0").await;
    assert_eq!(
        nowhere.1,
        json!([{"city": null, "state": null, "country": null}]),
        "nothing within 25 km, in no country"
    );
    let remote = reverse_geocode(&server, &admin, "lat=15&lon=15").await;
    assert_eq!(
        remote.1,
        json!([{"city": null, "state": null, "country": "Germany"}]),
        "no town near, but inside a country's borders"
    );
    let (status, body) = reverse_geocode(&server, &admin, "lat=91&lon=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (body["errors"][0]["path"].clone(), body["errors"][0]["message"].clone()),
        (json!(["lat"]), json!("Too big: expected number to be <=90")),
        "{body}"
    );
    let (status, body) = reverse_geocode(&server, &admin, "lat=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"].as_array().map(Vec::len),
        Some(2),
        "lat is not a number and lon is missing: {body}"
    );

    // A photo taken by the Eiffel Tower gets Paris, France from its GPS tags.
    let path = std::env::temp_dir().join(format!("darkroom-places-{}.jpg", uuid::Uuid::new_v4().simple()));
    fixtures::jpeg_with_exif(&path, 1);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let reply = server.upload(&admin, "tower.jpg", &bytes, &[]).await;
    let id = reply.body["id"].as_str().unwrap().to_string();
    server.wait_until_processed(&admin, &id).await;
    let exif = server
        .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
        .await
        .body["exifInfo"]
        .clone();
    assert_eq!(
        (exif["city"].clone(), exif["state"].clone(), exif["country"].clone()),
        (json!("Paris"), json!("Ile-de-France"), json!("France"))
    );
    let markers = server
        .call(Method::GET, "/api/map/markers", Some(&admin), None)
        .await
        .body;
    assert_eq!(markers[0]["city"], json!("Paris"), "{markers}");

    // With reverse geocoding off, a refresh forgets the names.
    server
        .update_config(&admin, |config| config["reverseGeocoding"]["enabled"] = json!(false))
        .await;
    let refresh = json!({"assetIds": [id], "name": "refresh-metadata"});
    assert_eq!(
        server
            .call(Method::POST, "/api/assets/jobs", Some(&admin), Some(refresh))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let mut city = json!("Paris");
    for _ in 0..200 {
        city = server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
            .await
            .body["exifInfo"]["city"]
            .clone();
        if city.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(city, Value::Null);

    // Reverse geocoding needs `map.search`.
    let key = server.api_key(&admin, &["map.read"]).await;
    let reply = server
        .request(Method::GET, "/api/map/reverse-geocode?lat=1&lon=1")
        .header("x-api-key", key);
    assert_eq!(server.send(reply).await.status, StatusCode::FORBIDDEN);
}

/// Metadata extraction waits for the places, as Immich pauses it while importing them: a photo
/// uploaded the moment the server starts still gets its city. (Filler places in the Southern
/// Ocean make the import take seconds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_read_while_the_places_load_still_get_their_names() {
    let filler: String = (0..80_000)
        .map(|i| {
            format!(
                "{:.4},{:.4},Filler {i},,,AQ\n",
                -70.0 + f64::from(i % 200) * 0.05,
                f64::from(i / 200) * 0.5 - 179.0
            )
        })
        .collect();
    let build = BuildData::with(&[("cities1000.csv", &format!("{SMALL_CITIES}{filler}"))]);
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.path())]).await;
    let admin = server.admin_token().await;
    let path = std::env::temp_dir().join(format!("darkroom-places-{}.jpg", uuid::Uuid::new_v4().simple()));
    fixtures::jpeg_with_exif(&path, 2);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let id = server.upload(&admin, "early.jpg", &bytes, &[]).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = server
        .call(
            Method::GET,
            "/api/system-metadata/reverse-geocoding-state",
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_ne!(
        state["lastImportFileName"],
        json!("cities1000.csv"),
        "the upload came before the places were in: {state}"
    );
    let mut exif = Value::Null;
    for _ in 0..600 {
        exif = server
            .call(Method::GET, &format!("/api/assets/{id}"), Some(&admin), None)
            .await
            .body["exifInfo"]
            .clone();
        if !exif["city"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(exif["city"], json!("Paris"), "{exif}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_are_found_by_name_accents_ignored() {
    let build = BuildData::with(&[("cities1000.csv", SMALL_CITIES)]);
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.path())]).await;
    let admin = imported(&server, "cities1000.csv").await;

    let reply = server
        .call(Method::GET, "/api/search/places?name=munchen", Some(&admin), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body[0],
        json!({"name": "München", "latitude": 48.13743, "longitude": 11.57549, "admin1name": "Bavaria", "admin2name": "Upper Bavaria"})
    );
    let berlin = server
        .call(Method::GET, "/api/search/places?name=Berlin", Some(&admin), None)
        .await
        .body;
    assert_eq!(berlin[0]["name"], json!("Berlin"));
    assert!(
        berlin[0].get("admin2name").is_none(),
        "no county: the field is left out, {berlin}"
    );
    let quoted = server
        .call(Method::GET, "/api/search/places?name=Rueti", Some(&admin), None)
        .await
        .body;
    assert_eq!(quoted[0]["name"], json!("Rueti / Dorfzentrum, Suedl. Teil"));
    let none = server
        .call(Method::GET, "/api/search/places?name=2024", Some(&admin), None)
        .await;
    assert_eq!(
        (none.status, none.body),
        (StatusCode::OK, json!([])),
        "digits are a name too"
    );
    let missing = server.call(Method::GET, "/api/search/places", Some(&admin), None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.body["errors"][0]["message"],
        json!("Invalid input: expected string, received undefined")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immichs_geonames_layout_is_read_as_immich_reads_it() {
    let line = |id: u32, name: &str, lat: f64, lon: f64, feature: &str, admin1: &str, admin2: &str| {
        format!(
            "{id}\t{name}\t{name}\t{name}X,{name}Y\t{lat}\t{lon}\tP\t{feature}\tDE\t\t{admin1}\t{admin2}\t\t\t1000\t\t30\tEurope/Berlin\t2024-05-06\n"
        )
    };
    let cities = [
        line(2950159, "Berlin", 52.52437, 13.41053, "PPLC", "16", "00"),
        // A section of a city is left out, so the city itself answers.
        line(6545310, "Mitte", 52.52003, 13.40489, "PPLX", "16", "00"),
        line(2867714, "München", 48.13743, 11.57549, "PPLA", "02", "091"),
    ]
    .concat();
    let build = BuildData::with(&[
        ("cities500.txt", &cities),
        (
            "admin1CodesASCII.txt",
            "DE.16\tLand Berlin\tLand Berlin\t2950157\nDE.02\tBavaria\tBavaria\t2951839\n",
        ),
        ("admin2Codes.txt", "DE.02.091\tUpper Bavaria\tUpper Bavaria\t2861322\n"),
        ("geodata-date.txt", "2024-05-06T00:00:00Z"),
    ]);
    let server = TestServer::start_with(&[("IMMICH_BUILD_DATA", build.path())]).await;
    let admin = imported(&server, "cities500.txt").await;
    let state = server
        .call(
            Method::GET,
            "/api/system-metadata/reverse-geocoding-state",
            Some(&admin),
            None,
        )
        .await
        .body;
    assert_eq!(state["lastUpdate"], json!("2024-05-06T00:00:00Z"));

    let near_mitte = reverse_geocode(&server, &admin, "lat=52.5201&lon=13.4049").await.1;
    assert_eq!(
        near_mitte,
        json!([{"city": "Berlin", "state": "Land Berlin", "country": "Germany"}])
    );
    let found = server
        .call(Method::GET, "/api/search/places?name=Bavaria", Some(&admin), None)
        .await
        .body;
    assert_eq!(found[0]["name"], json!("München"), "{found}");
    let by_alternate_name = server
        .call(Method::GET, "/api/search/places?name=BerlinY", Some(&admin), None)
        .await
        .body;
    assert_eq!(by_alternate_name[0]["name"], json!("Berlin"), "{by_alternate_name}");
    let places: i64 = sqlx::query_scalar("SELECT count(*) FROM geodata_places")
        .fetch_one(&mut server.db().await)
        .await
        .unwrap();
    assert_eq!(places, 2);
}
