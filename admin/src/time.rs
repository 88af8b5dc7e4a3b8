//! Instants (unix ms) as the `datetime-local` inputs show them: the operator's local time.

use glimpse_shared::Millis;

/// The browser's clock.
pub fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// `YYYY-MM-DDTHH:MM` in local time, for `<input type=datetime-local>`.
pub fn to_local_input(ms: Millis) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// Parses a `datetime-local` value (local time) into unix ms.
pub fn from_local_input(value: &str) -> Option<Millis> {
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    ms.is_finite().then_some(ms as Millis)
}

/// A short local date and time for lists.
pub fn show(ms: Millis) -> String {
    to_local_input(ms).replace('T', " ")
}

/// `YYYY-MM-DD` (UTC) `days` before `ms`'s UTC day.
pub fn utc_day(ms: Millis, days_before: i64) -> String {
    glimpse_shared::time::utc_date(ms - days_before * 86_400_000)
}

/// A duration in ms as people read it: `45 s`, `12 min`, `3.5 h`, `2.1 d`.
pub fn duration(ms: Millis) -> String {
    let s = ms as f64 / 1000.0;
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 90.0 * 60.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 36.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}
