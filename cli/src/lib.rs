//! `glimpse publish`: a site's content as files, validated and linted locally with the shared
//! code, compared with what is live, and applied through the admin API.

pub mod api_url;
pub mod content;
pub mod diagnostics;
pub mod plan;
