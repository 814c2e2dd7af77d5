//! Where a sign-in leads afterwards (`return_to`), for e-mail links and OIDC alike: only
//! somewhere on this site, checked when it is asked for and again when it is used.

/// Where a sign-in leads when no safe place was asked for.
const RETURN_HOME: &str = "/me";
/// The longest `return_to` kept (the columns hold 500 characters).
const RETURN_TO_MAX: usize = 500;

/// Where to go after signing in: `raw` read as a URL relative to the public URL, kept
/// only when it stays on this site's origin, and then as its path, query and fragment
/// (what was checked is what is sent). Control characters, typed or percent-encoded, a
/// path that a browser could read as another host (`//…`, `/\…`, also once decoded) and
/// anything over 500 characters lead to `/me` instead.
pub fn safe_return_to(public_url: &str, raw: Option<&str>) -> String {
    checked_return_to(public_url, raw).unwrap_or_else(|| RETURN_HOME.to_owned())
}

fn checked_return_to(public_url: &str, raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    if raw.is_empty() || raw.chars().count() > RETURN_TO_MAX || has_control(raw) {
        return None;
    }
    let base = reqwest::Url::parse(&format!("{}/", public_url.trim_end_matches('/'))).ok()?;
    let url = base.join(raw).ok()?;
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let path = url.path();
    let decoded = percent_decoded(path);
    if !path.starts_with('/') || path.starts_with("//") || decoded.starts_with("//") || decoded.contains('\\') {
        return None;
    }
    let mut out = path.to_owned();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    (out.len() <= RETURN_TO_MAX && !has_control(&percent_decoded(&out))).then_some(out)
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `%XX` escapes decoded (others left as they are), read as UTF-8 with bad bytes replaced.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_places_on_this_site_are_returned_to() {
        const SITE: &str = "https://haven.example.org";
        let kept = [
            ("/manage", "/manage"),
            ("/cases/HVN-7KQ2-M9XD?filed=1#attachments", "/cases/HVN-7KQ2-M9XD?filed=1#attachments"),
            ("https://haven.example.org/events/havenconf", "/events/havenconf"),
            ("/events/havenconf/../havenconf/concern", "/events/havenconf/concern"),
            ("/a%2Fb", "/a%2Fb"),
        ];
        for (raw, want) in kept {
            assert_eq!(safe_return_to(SITE, Some(raw)), want, "{raw}");
        }
        let at_limit = format!("/{}", "a".repeat(499));
        assert_eq!(safe_return_to(SITE, Some(&at_limit)), at_limit);
        let over = format!("/{}", "a".repeat(500));
        let hostile = [
            "/\t/evil.example",
            "/\r\n/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/me?next=%00",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "%2F%2Fevil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "\\\\evil.example",
            "//evil.example",
            "/.//evil.example",
            "/..//evil.example",
            "https://evil.example/",
            "http://haven.example.org/",
            "https://haven.example.org:8443/",
            "https://user@haven.example.org/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "",
            over.as_str(),
        ];
        for raw in hostile {
            assert_eq!(safe_return_to(SITE, Some(raw)), "/me", "{raw:?}");
        }
        assert_eq!(safe_return_to(SITE, None), "/me");
    }
}
