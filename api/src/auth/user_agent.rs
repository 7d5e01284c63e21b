//! What a session records about its client: device type, OS and app version, read from the
//! User-Agent (browsers) or from the `deviceModel`/`deviceType` headers the mobile app sends.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientDetails {
    pub device_type: String,
    pub device_os: String,
    pub app_version: Option<String>,
}

impl ClientDetails {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let user_agent = header("user-agent");
        Self {
            device_type: browser_name(&user_agent)
                .map(str::to_string)
                .unwrap_or_else(|| header("devicemodel")),
            device_os: os_name(&user_agent)
                .map(str::to_string)
                .unwrap_or_else(|| header("devicetype")),
            app_version: app_version(&user_agent),
        }
    }
}

/// `immich-android/1.2.3`, `immich-ios/…` or the legacy `Immich_Android_1.2.3`.
pub fn app_version(user_agent: &str) -> Option<String> {
    let modern = ["immich-android/", "immich-ios/", "immich-unknown/"];
    let legacy = ["Immich_Android_", "Immich_iOS_", "Immich_Unknown_"];
    modern
        .iter()
        .chain(legacy.iter())
        .find_map(|prefix| user_agent.strip_prefix(prefix))
        .filter(|version| !version.is_empty())
        .map(str::to_string)
}

/// The browser, for web sessions; order matters because most UAs name several engines.
fn browser_name(user_agent: &str) -> Option<&'static str> {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    if !user_agent.starts_with("Mozilla/") {
        return None;
    }
    BROWSERS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name)
}

fn os_name(user_agent: &str) -> Option<&'static str> {
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("CrOS", "Chrome OS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Ubuntu", "Ubuntu"),
        ("Fedora", "Fedora"),
        ("Linux", "Linux"),
    ];
    if !user_agent.starts_with("Mozilla/") {
        return None;
    }
    SYSTEMS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(pairs: &[(&'static str, &'static str)]) -> ClientDetails {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(*k, v.parse().unwrap());
        }
        ClientDetails::from_headers(&headers)
    }

    #[test]
    fn mobile_app_sends_its_own_headers() {
        let d = details(&[
            ("user-agent", "immich-android/1.140.0"),
            ("devicemodel", "Pixel 8"),
            ("devicetype", "Android"),
        ]);
        assert_eq!(
            d,
            ClientDetails {
                device_type: "Pixel 8".into(),
                device_os: "Android".into(),
                app_version: Some("1.140.0".into())
            }
        );
        assert_eq!(app_version("Immich_iOS_1.99.0").as_deref(), Some("1.99.0"));
        assert_eq!(app_version("curl/8"), None);
    }

    #[test]
    fn browsers_are_named() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
        let d = details(&[("user-agent", ua)]);
        assert_eq!((d.device_type.as_str(), d.device_os.as_str()), ("Chrome", "Linux"));
        let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0";
        let d = details(&[("user-agent", ua)]);
        assert_eq!((d.device_type.as_str(), d.device_os.as_str()), ("Firefox", "macOS"));
    }
}
