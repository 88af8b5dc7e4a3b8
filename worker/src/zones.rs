//! Time zone offsets from the runtime's own ICU (`Intl.DateTimeFormat`, which workerd
//! ships), so the worker does not link a tz database of its own. One formatter per zone per
//! isolate; offsets are remembered by [`crate::hours::CachedOffsets`] in front of it.

use std::cell::RefCell;
use std::collections::HashMap;

use glimpse_shared::Millis;
use worker::js_sys::{Array, Date, Function, Intl, Object, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};

use crate::hours::{ZoneOffsets, wall_clock_ms};

/// `Intl.DateTimeFormat` per zone: `None` remembers a zone the runtime refused.
#[derive(Default)]
pub struct IntlZones {
    formats: RefCell<HashMap<String, Option<Intl::DateTimeFormat>>>,
}

impl IntlZones {
    /// Zones remembered; beyond it the memory starts over (sites name a handful).
    const MAX_ZONES: usize = 512;

    /// A formatter that reads numeric Gregorian calendar fields in `zone`, or `None` if the
    /// runtime does not know the zone (its constructor throws a RangeError, caught here).
    fn format(zone: &str) -> Option<Intl::DateTimeFormat> {
        let options = Object::new();
        let set = |k: &str, v: &str| {
            Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v)).ok()
        };
        set("timeZone", zone)?;
        set("hourCycle", "h23")?;
        for field in ["year", "month", "day", "hour", "minute", "second"] {
            set(field, "numeric")?;
        }
        let intl = Reflect::get(&worker::js_sys::global(), &JsValue::from_str("Intl")).ok()?;
        let ctor: Function = Reflect::get(&intl, &JsValue::from_str("DateTimeFormat"))
            .ok()?
            .dyn_into()
            .ok()?;
        let args = Array::of2(&JsValue::from_str("en-US-u-ca-gregory-nu-latn"), &options);
        Reflect::construct(&ctor, &args).ok()?.dyn_into().ok()
    }

    /// The wall clock in `format`'s zone at `utc_ms`, as ms on that clock.
    fn wall_clock(format: &Intl::DateTimeFormat, utc_ms: Millis) -> Option<i64> {
        #[allow(clippy::cast_precision_loss)] // unix ms are exact as doubles below 2^53
        let date = Date::new(&JsValue::from_f64(utc_ms as f64));
        let parts = format.format_to_parts(&date);
        let mut fields = [0_i64; 6];
        for part in parts.iter() {
            let kind = Reflect::get(&part, &JsValue::from_str("type"))
                .ok()?
                .as_string()?;
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            let value = Reflect::get(&part, &JsValue::from_str("value"))
                .ok()?
                .as_string()?;
            fields[slot] = value.parse().ok()?;
        }
        let small = |i: usize| u32::try_from(fields[i]).ok();
        wall_clock_ms(
            fields[0],
            small(1)?,
            small(2)?,
            small(3)?,
            small(4)?,
            small(5)?,
        )
    }
}

impl ZoneOffsets for IntlZones {
    fn offset_ms(&self, zone: &str, utc_ms: Millis) -> Option<i64> {
        let known = self.formats.borrow().get(zone).cloned();
        let format = match known {
            Some(format) => format,
            None => {
                let format = Self::format(zone);
                let mut formats = self.formats.borrow_mut();
                if formats.len() >= Self::MAX_ZONES {
                    formats.clear();
                }
                formats.insert(zone.to_string(), format.clone());
                format
            }
        }?;
        Some(Self::wall_clock(&format, utc_ms)? - utc_ms.div_euclid(1000) * 1000)
    }
}
