//! The e-mails Darkroom sends, as small HTML pages with a plain-text twin. An admin may replace
//! a message's body with a template of their own (`templates.email.*` in the system config),
//! where `{name}`-style tags stand for the message's values, as in Immich.

/// A message the server can send. Only the first three can be previewed by admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    Welcome,
    AlbumInvite,
    AlbumUpdate,
    Test,
}

impl Template {
    /// The name in `POST /admin/notifications/templates/{name}`.
    pub fn from_preview_name(name: &str) -> Option<Self> {
        match name {
            "welcome" => Some(Self::Welcome),
            "album-invite" => Some(Self::AlbumInvite),
            "album-update" => Some(Self::AlbumUpdate),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
}

/// The values a message shows, by tag name (`displayName`, `albumName`, `baseUrl`, …).
pub type Values<'a> = [(&'a str, &'a str)];

fn value<'a>(values: &'a Values<'a>, key: &str) -> &'a str {
    values.iter().find(|(k, _)| *k == key).map_or("", |(_, v)| v)
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Replaces each `{key}` (on one line) with its value, HTML-escaped; unknown or empty keys stay
/// as written, so a typo shows in the preview.
pub fn fill_tags(template: &str, values: &Values) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if !after[..close].contains('\n') => {
                let key = &after[..close];
                match values.iter().find(|(k, v)| *k == key && !v.is_empty()) {
                    Some((_, v)) => out.push_str(&escape(v)),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Plain text from HTML: tags dropped, the common entities decoded, blank runs collapsed.
fn to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The link a message leads to, with the words of its button.
fn action(template: Template, values: &Values) -> Option<(String, &'static str)> {
    let base = value(values, "baseUrl").trim_end_matches('/');
    match template {
        Template::Welcome => Some((format!("{base}/auth/login"), "Sign in")),
        Template::AlbumInvite | Template::AlbumUpdate => {
            Some((format!("{base}/albums/{}", value(values, "albumId")), "Open the album"))
        }
        Template::Test => None,
    }
}

/// Our own wording of each message: (HTML body, plain text).
fn built_in(template: Template, values: &Values) -> (String, String) {
    let v = |key| value(values, key);
    let e = |key| escape(value(values, key));
    match template {
        Template::Welcome => {
            let mut html = format!(
                "<p>Hello {},</p><p>An account on this photo server was just made for you. You can sign in with:</p>\
                 <p>Email: <b>{}</b>",
                e("displayName"),
                e("username")
            );
            let mut text = format!(
                "Hello {},\n\nAn account on this photo server was just made for you. You can sign in with:\n\nEmail: {}",
                v("displayName"),
                v("username")
            );
            if !v("password").is_empty() {
                html.push_str(&format!("<br>Password: <b>{}</b>", e("password")));
                text.push_str(&format!("\nPassword: {}", v("password")));
            }
            html.push_str("</p>");
            (html, text)
        }
        Template::AlbumInvite => (
            format!(
                "<p>Hello {},</p><p>{} shared the album <b>{}</b> with you.</p>",
                e("recipientName"),
                e("senderName"),
                e("albumName")
            ),
            format!(
                "Hello {},\n\n{} shared the album \"{}\" with you.",
                v("recipientName"),
                v("senderName"),
                v("albumName")
            ),
        ),
        Template::AlbumUpdate => (
            format!(
                "<p>Hello {},</p><p>There are new photos or videos in <b>{}</b>.</p>",
                e("recipientName"),
                e("albumName")
            ),
            format!(
                "Hello {},\n\nThere are new photos or videos in \"{}\".",
                v("recipientName"),
                v("albumName")
            ),
        ),
        Template::Test => (
            format!(
                "<p>Hello {},</p><p>This message shows that your server can send e-mail with these settings.</p>",
                e("displayName")
            ),
            format!(
                "Hello {},\n\nThis message shows that your server can send e-mail with these settings.",
                v("displayName")
            ),
        ),
    }
}

/// Renders `template`: the admin's `custom` body when not empty, else ours; `image_cid` puts an
/// inline picture (the album's cover) under the text.
pub fn render(template: Template, values: &Values, custom: &str, image_cid: Option<&str>) -> Rendered {
    let (mut body, mut text) = if custom.trim().is_empty() {
        built_in(template, values)
    } else {
        let filled = fill_tags(custom, values);
        let text = to_text(&filled);
        (format!("<div>{filled}</div>"), text)
    };
    if let Some(cid) = image_cid {
        body.push_str(&format!(
            r#"<p><img src="cid:{}" alt="" style="max-width:300px;width:100%;border-radius:8px"></p>"#,
            escape(cid)
        ));
    }
    if let Some((link, label)) = action(template, values) {
        let link_html = escape(&link);
        body.push_str(&format!(
            r#"<p style="margin:24px 0"><a href="{link_html}" style="background:#4250af;color:#ffffff;padding:10px 18px;border-radius:20px;text-decoration:none">{label}</a></p>
<p style="font-size:12px;color:#666666">If the button does nothing, copy this address into your browser: <a href="{link_html}">{link_html}</a></p>"#
        ));
        text.push_str(&format!("\n\n{label}: {link}"));
    }
    let html = format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="margin:0;padding:24px;background:#f4f4f6;font-family:Arial,Helvetica,sans-serif;color:#222222">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:24px">
{body}
</div></body></html>"#
    );
    Rendered { html, text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_filled_escaped_and_unknown_ones_kept() {
        let values = [("albumName", "Sea & <Sun>"), ("empty", "")];
        assert_eq!(
            fill_tags("In {albumName}: {missing} {empty}", &values),
            "In Sea &amp; &lt;Sun&gt;: {missing} {empty}"
        );
        assert_eq!(fill_tags("a {b\n} {albumName", &values), "a {b\n} {albumName");
        assert_eq!(fill_tags("{{albumName}}", &values), "{{albumName}}");
    }

    #[test]
    fn built_in_and_custom_bodies() {
        let values = [
            ("recipientName", "Ana"),
            ("senderName", "Bo"),
            ("albumName", "Trip"),
            ("albumId", "42"),
            ("baseUrl", "https://photos.example/"),
        ];
        let ours = render(Template::AlbumInvite, &values, "", Some("cover"));
        assert!(ours.html.contains("Bo shared the album <b>Trip</b>"), "{}", ours.html);
        assert!(ours.html.contains(r#"href="https://photos.example/albums/42""#));
        assert!(ours.html.contains("cid:cover"));
        assert!(
            ours.text.ends_with("Open the album: https://photos.example/albums/42"),
            "{}",
            ours.text
        );
        let custom = render(Template::AlbumInvite, &values, "<h1>{senderName} &amp; you</h1>", None);
        assert!(custom.html.contains("<h1>Bo &amp; you</h1>"));
        assert!(custom.text.starts_with("Bo & you"), "{}", custom.text);
    }

    #[test]
    fn welcome_shows_the_password_only_when_given() {
        let with = render(
            Template::Welcome,
            &[
                ("displayName", "Ana"),
                ("username", "ana@example.com"),
                ("password", "s3cret"),
            ],
            "",
            None,
        );
        assert!(with.text.contains("Password: s3cret"));
        let without = render(
            Template::Welcome,
            &[("displayName", "Ana"), ("username", "ana@example.com")],
            "",
            None,
        );
        assert!(!without.html.contains("Password"));
    }
}
