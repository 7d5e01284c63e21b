//! `/view/folder*`: browsing one's own timeline by the folders its files are stored in.

use axum::Json;
use axum::extract::State;
use darkroom_storage::assets;
use serde::Deserialize;

use crate::auth::Auth;
use crate::dto::asset::AssetResponseDto;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation::{ValidQuery, Validate};

pub async fn unique_paths(State(state): State<AppState>, Auth(auth): Auth) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(assets::folders(&state.db, auth.user.id).await?))
}

#[derive(Debug, Deserialize)]
pub struct FolderQuery {
    path: String,
}

impl Validate for FolderQuery {}

/// The assets directly inside `path`, by file name.
pub async fn folder(
    State(state): State<AppState>,
    Auth(auth): Auth,
    ValidQuery(query): ValidQuery<FolderQuery>,
) -> ApiResult<Json<Vec<AssetResponseDto>>> {
    let folder = query.path.strip_suffix('/').unwrap_or(&query.path);
    let ids = assets::ids_in_folder(&state.db, auth.user.id, folder).await?;
    let list = assets::get_many(&state.db, &ids).await?;
    Ok(Json(
        list.into_iter()
            .map(|asset| AssetResponseDto::new(asset, auth.user.id, None).without_relations())
            .collect(),
    ))
}
