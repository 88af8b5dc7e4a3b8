//! Where `glimpse publish` may send the admin token: https anywhere, plain http only to this
//! machine (127.0.0.0/8, ::1, localhost), where nobody on the network can read it.

use std::net::IpAddr;

/// `Ok` if the admin token may be sent to `url`; otherwise the reason, to print.
pub fn check(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("--api must be an https:// URL (got {url:?})"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if is_loopback(authority) {
        Ok(())
    } else {
        Err(format!(
            "refusing plain http to {authority:?}: the admin token would cross the network readable; use https (http is only for 127.0.0.1, ::1 or localhost)"
        ))
    }
}

/// Whether `authority` (`host[:port]`, no user info) names this machine.
fn is_loopback(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, port)) if port.is_empty() || is_port(port) => h,
            _ => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return false,
            None => authority,
        }
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(s: &str) -> bool {
    s.strip_prefix(':')
        .unwrap_or(s)
        .bytes()
        .all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://glimpse.example",
            "https://glimpse.example.workers.dev/",
            "http://127.0.0.1:8787",
            "http://127.8.9.10",
            "http://localhost:8787/",
            "http://LOCALHOST",
            "http://[::1]:8787",
            "http://[::1]",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://glimpse.example",
            "http://192.168.1.10:8787",
            "http://10.0.0.1",
            "http://128.0.0.1",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://127.0.0.1@evil.example",
            "http://evil.example#@127.0.0.1",
            "http://[::2]:8787",
            "http://[::ffff:10.0.0.1]",
            "http://127.0.0.1:80x",
            "ftp://127.0.0.1",
            "glimpse.example",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check("http://glimpse.example").is_err_and(|e| e.contains("https")));
    }
}
