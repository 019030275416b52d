//! Maintenance integration tests, one binary: assets, work orders, inventory, schedules,
//! KPIs, QR and requests through real HTTP on SQLite and PostgreSQL, and the phone pages
//! in headless Chromium.

mod api;
mod browser;
mod common;
mod inventory;
mod inventory_pages;
mod kpis;
mod request_browser;
mod requests;
mod schedules;
mod work_orders;
