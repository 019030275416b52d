//! Forms for the records of the asset registry: assets (new, edit), locations (new, edit,
//! from the location tree) and asset types (a list with new and edit). References are
//! chosen by name: a location or type from a list of all of them, a parent asset typed
//! by name, tag or serial number.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use nexus_core::extract::Path;
use nexus_core::pages::{
    Done, Errors, Halt, OrPage, Page, Posted, Shell, Web, chosen_id, filled, render,
};
use nexus_core::{ApiResult, AppState, IfMatch, Validator};
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use super::pick::{self, ASSET_FIELDS, Choices};
use super::words;
use crate::model::*;
use crate::service;
use nexus_core::pages::{absorb, typed_date, typed_decimal, typed_whole};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/maintenance/assets/new", get(new_asset).post(create_asset))
        .route("/maintenance/assets/choices", get(asset_choices))
        .route(
            "/maintenance/assets/{id}/edit",
            get(edit_asset).post(update_asset),
        )
        .route(
            "/maintenance/locations/new",
            get(new_location).post(create_location),
        )
        .route(
            "/maintenance/locations/{id}/edit",
            get(edit_location).post(update_location),
        )
        .route("/maintenance/asset-types", get(types).post(create_type))
        .route(
            "/maintenance/asset-types/{id}/edit",
            get(edit_type).post(update_type),
        )
}

const ASSETS_READ: &str = "assets:read";
const ASSETS_WRITE: &str = "assets:write";
const LOCATIONS_WRITE: &str = "locations:write";

/// Every location as (id, "Site / Hall / Line"), by that path: the whole list, never cut.
async fn location_options(conn: &impl ConnectionTrait) -> ApiResult<Vec<(String, String)>> {
    let all = service::all_locations(conn).await?;
    let path = |l: &LocationOut| {
        let mut names = vec![l.name.clone()];
        let mut at = l.parent_id;
        // A tree has no cycles; the bound only guards a broken one.
        while let Some(p) = at.and_then(|p| all.iter().find(|x| x.id == p))
            && names.len() < 50
        {
            names.push(p.name.clone());
            at = p.parent_id;
        }
        names.reverse();
        names.join(" / ")
    };
    let mut out: Vec<(String, String)> = all.iter().map(|l| (l.id.to_string(), path(l))).collect();
    out.sort_by_key(|(_, p)| p.to_lowercase());
    Ok(out)
}

/// Every asset type as (id, name).
async fn type_options(conn: &impl ConnectionTrait) -> ApiResult<Vec<(String, String)>> {
    Ok(service::list_asset_types(conn)
        .await?
        .items
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect())
}

fn id_text(id: Option<i64>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

// ---------------------------------------------------------------- assets

#[derive(Template)]
#[template(
    source = "{% for o in choices.options %}<option value=\"{{ o }}\"></option>\n{% endfor %}",
    ext = "html"
)]
struct ChoicesFragment {
    choices: Choices,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChoicesQuery {
    q: String,
}

/// The `<option>`s of an asset datalist for what was typed so far (`?q=`): what a script
/// may fetch to offer matches while typing (an asset input names this address in its
/// `data-choices`); without one, the form's Find button does the same.
async fn asset_choices(web: Web, Query(q): Query<ChoicesQuery>) -> Page {
    web.require(ASSETS_READ)?;
    let choices = pick::asset_choices(web.state.db.read(), &q.q)
        .await
        .or_page(&web)?;
    Ok(render(StatusCode::OK, &ChoicesFragment { choices }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssetForm {
    /// The version edited (edit form only).
    version: i32,
    name: String,
    description: String,
    asset_type_id: String,
    status: String,
    health_score: String,
    location_id: String,
    manufacturer: String,
    model: String,
    serial_number: String,
    tag: String,
    installation_date: String,
    purchase_cost: String,
    expected_lifetime: String,
    warranty_expiry_date: String,
    criticality: String,
    purchase_date: String,
    last_maintenance_date: String,
    next_maintenance_date: String,
    /// The parent asset as typed: name, tag or serial number.
    parent: String,
    /// The parent the page filled in (see [`pick::asset`]).
    parent_id: String,
    image_url: String,
    /// Why it went down (edit form, with status `down`).
    downtime_reason: String,
    /// `parent`: the Find button was pressed; nothing is saved.
    find: String,
}

/// The prefills of the new asset form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewAssetQuery {
    location_id: String,
    parent_id: String,
    /// What to offer parents for.
    parent_q: String,
}

impl AssetForm {
    fn of(a: &AssetOut, parent: Option<&AssetOut>) -> Self {
        let money = |c: &Option<i64>| c.map(nexus_core::pages::amount).unwrap_or_default();
        Self {
            version: a.version,
            name: a.name.clone(),
            description: text(&a.description),
            asset_type_id: id_text(a.asset_type_id),
            status: a.status.clone(),
            health_score: id_text(a.health_score.map(i64::from)),
            location_id: id_text(a.location_id),
            manufacturer: text(&a.manufacturer),
            model: text(&a.model),
            serial_number: text(&a.serial_number),
            tag: text(&a.tag),
            installation_date: text(&a.installation_date),
            purchase_cost: money(&a.purchase_cost_cents),
            expected_lifetime: id_text(a.expected_lifetime.map(i64::from)),
            warranty_expiry_date: text(&a.warranty_expiry_date),
            criticality: text(&a.criticality),
            purchase_date: text(&a.purchase_date),
            last_maintenance_date: text(&a.last_maintenance_date),
            next_maintenance_date: text(&a.next_maintenance_date),
            parent: parent.map(pick::asset_label).unwrap_or_default(),
            parent_id: id_text(a.parent_asset_id),
            image_url: text(&a.image_url),
            downtime_reason: String::new(),
            find: String::new(),
        }
    }

    /// The asset as typed, every field's error at once (the typed values' and the
    /// asset's own), named as the form names them.
    async fn data(&self, conn: &impl ConnectionTrait) -> ApiResult<AssetData> {
        let mut v = Validator::new();
        let parent = absorb(
            &mut v,
            pick::asset(conn, "parent", &self.parent, &self.parent_id).await,
        )?
        .flatten()
        .map(|a| a.id);
        let asset_type_id = absorb(
            &mut v,
            chosen_id("asset_type_id", &self.asset_type_id, "type"),
        )?
        .flatten();
        let location_id = absorb(
            &mut v,
            chosen_id("location_id", &self.location_id, "location"),
        )?
        .flatten();
        let d = AssetData {
            name: self.name.clone(),
            description: filled(&self.description),
            asset_type_id,
            status: filled(&self.status),
            health_score: typed_whole(&mut v, "health_score", &self.health_score),
            location_id,
            manufacturer: filled(&self.manufacturer),
            model: filled(&self.model),
            serial_number: filled(&self.serial_number),
            tag: filled(&self.tag),
            installation_date: typed_date(&mut v, "installation_date", &self.installation_date),
            purchase_cost_cents: pick::money(&mut v, "purchase_cost", &self.purchase_cost),
            expected_lifetime: typed_whole(&mut v, "expected_lifetime", &self.expected_lifetime),
            warranty_expiry_date: typed_date(
                &mut v,
                "warranty_expiry_date",
                &self.warranty_expiry_date,
            ),
            criticality: filled(&self.criticality),
            purchase_date: typed_date(&mut v, "purchase_date", &self.purchase_date),
            last_maintenance_date: typed_date(
                &mut v,
                "last_maintenance_date",
                &self.last_maintenance_date,
            ),
            next_maintenance_date: typed_date(
                &mut v,
                "next_maintenance_date",
                &self.next_maintenance_date,
            ),
            parent_asset_id: parent,
            image_url: filled(&self.image_url),
        };
        absorb(
            &mut v,
            d.clone()
                .validate()
                .map_err(|e| pick::for_form(e, ASSET_FIELDS)),
        )?;
        v.finish()?;
        Ok(d)
    }

    /// The change typed: every field replaces the stored one.
    async fn update(&self, conn: &impl ConnectionTrait) -> ApiResult<UpdateAsset> {
        let d = self.data(conn).await?;
        Ok(UpdateAsset {
            name: Some(d.name),
            description: Some(d.description),
            asset_type_id: Some(d.asset_type_id),
            status: d.status,
            health_score: Some(d.health_score),
            location_id: Some(d.location_id),
            manufacturer: Some(d.manufacturer),
            model: Some(d.model),
            serial_number: Some(d.serial_number),
            tag: Some(d.tag),
            installation_date: Some(d.installation_date),
            purchase_cost_cents: Some(d.purchase_cost_cents),
            expected_lifetime: Some(d.expected_lifetime),
            warranty_expiry_date: Some(d.warranty_expiry_date),
            criticality: Some(d.criticality),
            purchase_date: Some(d.purchase_date),
            last_maintenance_date: Some(d.last_maintenance_date),
            next_maintenance_date: Some(d.next_maintenance_date),
            parent_asset_id: Some(d.parent_asset_id),
            image_url: Some(d.image_url),
            downtime_reason: filled(&self.downtime_reason),
        })
    }
}

#[derive(Template)]
#[template(path = "asset_form.html")]
struct AssetFormPage {
    shell: Shell,
    /// The asset edited; `None` on the new asset form.
    asset: Option<AssetOut>,
    form: AssetForm,
    errors: Errors,
    types: Vec<(String, String)>,
    locations: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    parents: Choices,
}

async fn asset_form(
    web: &Web,
    asset: Option<AssetOut>,
    form: AssetForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let db = web.state.db.read();
    let page = AssetFormPage {
        types: type_options(db).await.or_page(web)?,
        locations: location_options(db).await.or_page(web)?,
        statuses: words::options(&ASSET_STATUSES, words::status_word),
        parents: pick::asset_choices(db, &form.parent).await.or_page(web)?,
        shell,
        asset,
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn new_asset(web: Web, Query(q): Query<NewAssetQuery>) -> Page {
    web.require(ASSETS_WRITE)?;
    let db = web.state.db.read();
    let mut form = AssetForm {
        status: "operational".into(),
        location_id: q.location_id.clone(),
        parent: q.parent_q.clone(),
        ..AssetForm::default()
    };
    if let Ok(id) = q.parent_id.parse::<i64>()
        && let Ok(p) = service::get_asset(db, id).await
    {
        form.parent = pick::asset_label(&p);
        form.parent_id = p.id.to_string();
        if form.location_id.is_empty() {
            form.location_id = id_text(p.location_id);
        }
    }
    let shell = web.shell("New asset");
    asset_form(&web, None, form, shell, Errors::default(), StatusCode::OK).await
}

/// The form again after Find: the matches for the text typed, nothing saved.
fn finding(form: &AssetForm) -> bool {
    form.find == "parent"
}

async fn create_asset(web: Web, Posted(form): Posted<AssetForm>) -> Page {
    web.require(ASSETS_WRITE)?;
    if finding(&form) {
        let shell = web.shell("New asset");
        return asset_form(&web, None, form, shell, Errors::default(), StatusCode::OK).await;
    }
    let made = match form.data(web.state.db.read()).await {
        Ok(d) => service::create_asset(&web.state, &web.audit(), d).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(a) => {
            Ok(Redirect::to(&format!("/maintenance/assets/{}?done=created", a.id)).into_response())
        }
        Err(err) => {
            let r = web
                .refused("New asset", pick::for_form(err, ASSET_FIELDS))?
                .saying("The asset was not created");
            asset_form(&web, None, form, r.shell, r.errors, r.status).await
        }
    }
}

async fn stored_asset(web: &Web, id: i64) -> Result<(AssetOut, Option<AssetOut>), Halt> {
    let db = web.state.db.read();
    let asset = service::get_asset(db, id).await.or_page(web)?;
    let parent = match asset.parent_asset_id {
        Some(p) => service::get_asset(db, p).await.ok(),
        None => None,
    };
    Ok((asset, parent))
}

async fn edit_asset(web: Web, Path(id): Path<i64>) -> Page {
    web.require(ASSETS_WRITE)?;
    let (asset, parent) = stored_asset(&web, id).await?;
    let form = AssetForm::of(&asset, parent.as_ref());
    let shell = web.shell(&format!("Edit {}", asset.name));
    asset_form(
        &web,
        Some(asset),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update_asset(web: Web, Path(id): Path<i64>, Posted(form): Posted<AssetForm>) -> Page {
    web.require(ASSETS_WRITE)?;
    let (asset, parent) = stored_asset(&web, id).await?;
    let title = format!("Edit {}", asset.name);
    if finding(&form) {
        let shell = web.shell(&title);
        return asset_form(
            &web,
            Some(asset),
            form,
            shell,
            Errors::default(),
            StatusCode::OK,
        )
        .await;
    }
    let changed = match form.update(web.state.db.read()).await {
        Ok(req) => {
            service::update_asset(
                &web.state,
                &web.audit(),
                id,
                IfMatch(Some(form.version)),
                req,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/maintenance/assets/{id}?done=saved")).into_response()),
        Err(err) => {
            let r = web
                .refused(&title, pick::for_form(err, ASSET_FIELDS))?
                .saying("The asset was not changed");
            let form = r.keeping(form, || AssetForm::of(&asset, parent.as_ref()));
            asset_form(&web, Some(asset), form, r.shell, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- locations

#[derive(Deserialize, Default)]
#[serde(default)]
struct LocationForm {
    version: i32,
    name: String,
    parent_id: String,
    description: String,
    address: String,
    city: String,
    state: String,
    country: String,
    postal_code: String,
    latitude: String,
    longitude: String,
}

impl LocationForm {
    fn of(l: &LocationOut) -> Self {
        let num = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        Self {
            version: l.version,
            name: l.name.clone(),
            parent_id: id_text(l.parent_id),
            description: text(&l.description),
            address: text(&l.address),
            city: text(&l.city),
            state: text(&l.state),
            country: text(&l.country),
            postal_code: text(&l.postal_code),
            latitude: num(l.latitude),
            longitude: num(l.longitude),
        }
    }

    fn data(&self) -> ApiResult<LocationData> {
        let mut v = Validator::new();
        let parent_id =
            absorb(&mut v, chosen_id("parent_id", &self.parent_id, "location"))?.flatten();
        let d = LocationData {
            name: self.name.clone(),
            description: filled(&self.description),
            address: filled(&self.address),
            city: filled(&self.city),
            state: filled(&self.state),
            country: filled(&self.country),
            postal_code: filled(&self.postal_code),
            latitude: typed_decimal(&mut v, "latitude", &self.latitude),
            longitude: typed_decimal(&mut v, "longitude", &self.longitude),
            parent_id,
        };
        absorb(&mut v, d.clone().validate())?;
        v.finish()?;
        Ok(d)
    }

    fn update(&self) -> ApiResult<UpdateLocation> {
        let d = self.data()?;
        Ok(UpdateLocation {
            name: Some(d.name),
            description: Some(d.description),
            address: Some(d.address),
            city: Some(d.city),
            state: Some(d.state),
            country: Some(d.country),
            postal_code: Some(d.postal_code),
            latitude: Some(d.latitude),
            longitude: Some(d.longitude),
            parent_id: Some(d.parent_id),
        })
    }
}

#[derive(Template)]
#[template(path = "location_form.html")]
struct LocationFormPage {
    shell: Shell,
    location: Option<LocationOut>,
    form: LocationForm,
    errors: Errors,
    /// Every location but the one edited.
    parents: Vec<(String, String)>,
}

async fn location_form(
    web: &Web,
    location: Option<LocationOut>,
    form: LocationForm,
    shell: Shell,
    errors: Errors,
    status: StatusCode,
) -> Page {
    let own = location.as_ref().map(|l| l.id.to_string());
    let parents = location_options(web.state.db.read())
        .await
        .or_page(web)?
        .into_iter()
        .filter(|(id, _)| Some(id) != own.as_ref())
        .collect();
    let page = LocationFormPage {
        shell,
        location,
        form,
        errors,
        parents,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewLocationQuery {
    parent_id: String,
}

async fn new_location(web: Web, Query(q): Query<NewLocationQuery>) -> Page {
    web.require(LOCATIONS_WRITE)?;
    let form = LocationForm {
        parent_id: q.parent_id,
        ..LocationForm::default()
    };
    let shell = web.shell("New location");
    location_form(&web, None, form, shell, Errors::default(), StatusCode::OK).await
}

fn to_location(id: i64, done: &str) -> Response {
    Redirect::to(&format!("/maintenance/assets?location_id={id}&done={done}")).into_response()
}

async fn create_location(web: Web, Posted(form): Posted<LocationForm>) -> Page {
    web.require(LOCATIONS_WRITE)?;
    let made = match form.data() {
        Ok(d) => service::create_location(&web.state, &web.audit(), d).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(l) => Ok(to_location(l.id, "created")),
        Err(err) => {
            let r = web
                .refused("New location", err)?
                .saying("The location was not created");
            location_form(&web, None, form, r.shell, r.errors, r.status).await
        }
    }
}

async fn edit_location(web: Web, Path(id): Path<i64>) -> Page {
    web.require(LOCATIONS_WRITE)?;
    let location = service::get_location(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    let form = LocationForm::of(&location);
    let shell = web.shell(&format!("Edit {}", location.name));
    location_form(
        &web,
        Some(location),
        form,
        shell,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn update_location(
    web: Web,
    Path(id): Path<i64>,
    Posted(form): Posted<LocationForm>,
) -> Page {
    web.require(LOCATIONS_WRITE)?;
    let location = service::get_location(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    let title = format!("Edit {}", location.name);
    let changed = match form.update() {
        Ok(req) => {
            service::update_location(
                &web.state,
                &web.audit(),
                id,
                IfMatch(Some(form.version)),
                req,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(to_location(id, "saved")),
        Err(err) => {
            let r = web
                .refused(&title, err)?
                .saying("The location was not changed");
            let form = r.keeping(form, || LocationForm::of(&location));
            location_form(&web, Some(location), form, r.shell, r.errors, r.status).await
        }
    }
}

// ---------------------------------------------------------------- asset types

#[derive(Deserialize, Default)]
#[serde(default)]
struct TypeForm {
    version: i32,
    name: String,
    description: String,
    icon: String,
}

impl TypeForm {
    fn of(t: &AssetTypeOut) -> Self {
        Self {
            version: t.version,
            name: t.name.clone(),
            description: text(&t.description),
            icon: text(&t.icon),
        }
    }

    fn data(&self) -> AssetTypeData {
        AssetTypeData {
            name: self.name.clone(),
            description: filled(&self.description),
            icon: filled(&self.icon),
        }
    }
}

#[derive(Template)]
#[template(path = "asset_types.html")]
struct TypesPage {
    shell: Shell,
    types: Vec<AssetTypeOut>,
    can_write: bool,
    form: TypeForm,
    errors: Errors,
}

async fn types_page(
    web: &Web,
    shell: Shell,
    form: TypeForm,
    errors: Errors,
    status: StatusCode,
) -> Page {
    web.require(ASSETS_READ)?;
    let types = service::list_asset_types(web.state.db.read())
        .await
        .or_page(web)?
        .items;
    let page = TypesPage {
        shell,
        types,
        can_write: web.user.can(ASSETS_WRITE),
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn types(web: Web, Query(done): Query<Done>) -> Page {
    let shell = web.shell_done("Asset types", done.message(&[]));
    types_page(
        &web,
        shell,
        TypeForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create_type(web: Web, Posted(form): Posted<TypeForm>) -> Page {
    web.require(ASSETS_WRITE)?;
    match service::create_asset_type(&web.state, &web.audit(), form.data()).await {
        Ok(t) => Ok(Redirect::to(&format!(
            "/maintenance/asset-types?done=created#type-{}",
            t.id
        ))
        .into_response()),
        Err(err) => {
            let r = web
                .refused("Asset types", err)?
                .saying("The asset type was not created");
            types_page(&web, r.shell, form, r.errors, r.status).await
        }
    }
}

#[derive(Template)]
#[template(path = "asset_type_edit.html")]
struct TypeEditPage {
    shell: Shell,
    kind: AssetTypeOut,
    form: TypeForm,
    errors: Errors,
}

async fn edit_type(web: Web, Path(id): Path<i64>) -> Page {
    web.require(ASSETS_WRITE)?;
    let kind = service::get_asset_type(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    let page = TypeEditPage {
        shell: web.shell(&format!("Edit {}", kind.name)),
        form: TypeForm::of(&kind),
        kind,
        errors: Errors::default(),
    };
    Ok(render(StatusCode::OK, &page))
}

async fn update_type(web: Web, Path(id): Path<i64>, Posted(form): Posted<TypeForm>) -> Page {
    web.require(ASSETS_WRITE)?;
    let kind = service::get_asset_type(web.state.db.read(), id)
        .await
        .or_page(&web)?;
    let d = form.data();
    let req = UpdateAssetType {
        name: Some(d.name),
        description: Some(d.description),
        icon: Some(d.icon),
    };
    match service::update_asset_type(
        &web.state,
        &web.audit(),
        id,
        IfMatch(Some(form.version)),
        req,
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/maintenance/asset-types?done=saved#type-{id}")).into_response(),
        ),
        Err(err) => {
            let r = web
                .refused(&format!("Edit {}", kind.name), err)?
                .saying("The asset type was not changed");
            let form = r.keeping(form, || TypeForm::of(&kind));
            let page = TypeEditPage {
                shell: r.shell,
                kind,
                form,
                errors: r.errors,
            };
            Ok(render(r.status, &page))
        }
    }
}
