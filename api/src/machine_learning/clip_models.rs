//! The CLIP models Immich knows and the dimension of their embeddings: the name chosen in
//! `machineLearning.clip.modelName` decides the size of `smart_search.embedding`.

/// `(model name, embedding dimension)`, as Immich 3.0.3 lists them.
const CLIP_MODELS: &[(&str, u32)] = &[
    ("RN101__openai", 512),
    ("RN101__yfcc15m", 512),
    ("ViT-B-16__laion400m_e31", 512),
    ("ViT-B-16__laion400m_e32", 512),
    ("ViT-B-16__openai", 512),
    ("ViT-B-32__laion2b-s34b-b79k", 512),
    ("ViT-B-32__laion2b_e16", 512),
    ("ViT-B-32__laion400m_e31", 512),
    ("ViT-B-32__laion400m_e32", 512),
    ("ViT-B-32__openai", 512),
    ("XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k", 512),
    ("XLM-Roberta-Large-Vit-B-32", 512),
    ("RN50x4__openai", 640),
    ("ViT-B-16-plus-240__laion400m_e31", 640),
    ("ViT-B-16-plus-240__laion400m_e32", 640),
    ("XLM-Roberta-Large-Vit-B-16Plus", 640),
    ("LABSE-Vit-L-14", 768),
    ("RN50x16__openai", 768),
    ("ViT-B-16-SigLIP-256__webli", 768),
    ("ViT-B-16-SigLIP-384__webli", 768),
    ("ViT-B-16-SigLIP-512__webli", 768),
    ("ViT-B-16-SigLIP-i18n-256__webli", 768),
    ("ViT-B-16-SigLIP__webli", 768),
    ("ViT-L-14-336__openai", 768),
    ("ViT-L-14-quickgelu__dfn2b", 768),
    ("ViT-L-14__laion2b-s32b-b82k", 768),
    ("ViT-L-14__laion400m_e31", 768),
    ("ViT-L-14__laion400m_e32", 768),
    ("ViT-L-14__openai", 768),
    ("XLM-Roberta-Large-Vit-L-14", 768),
    ("nllb-clip-base-siglip__mrl", 768),
    ("nllb-clip-base-siglip__v1", 768),
    ("RN50__cc12m", 1024),
    ("RN50__openai", 1024),
    ("RN50__yfcc15m", 1024),
    ("RN50x64__openai", 1024),
    ("ViT-H-14-378-quickgelu__dfn5b", 1024),
    ("ViT-H-14-quickgelu__dfn5b", 1024),
    ("ViT-H-14__laion2b-s32b-b79k", 1024),
    ("ViT-L-16-SigLIP-256__webli", 1024),
    ("ViT-L-16-SigLIP-384__webli", 1024),
    ("ViT-g-14__laion2b-s12b-b42k", 1024),
    ("XLM-Roberta-Large-ViT-H-14__frozen_laion5b_s13b_b90k", 1024),
    ("ViT-SO400M-14-SigLIP-384__webli", 1152),
    ("nllb-clip-large-siglip__mrl", 1152),
    ("nllb-clip-large-siglip__v1", 1152),
    ("ViT-B-16-SigLIP2__webli", 768),
    ("ViT-B-32-SigLIP2-256__webli", 768),
    ("ViT-L-16-SigLIP2-256__webli", 1024),
    ("ViT-L-16-SigLIP2-384__webli", 1024),
    ("ViT-L-16-SigLIP2-512__webli", 1024),
    ("ViT-SO400M-14-SigLIP2__webli", 1152),
    ("ViT-SO400M-14-SigLIP2-378__webli", 1152),
    ("ViT-SO400M-16-SigLIP2-256__webli", 1152),
    ("ViT-SO400M-16-SigLIP2-384__webli", 1152),
    ("ViT-SO400M-16-SigLIP2-512__webli", 1152),
    ("ViT-gopt-16-SigLIP2-256__webli", 1536),
    ("ViT-gopt-16-SigLIP2-384__webli", 1536),
];

/// The model's name as Immich cleans it: the last path segment, `:` as `_`.
fn clean(model_name: &str) -> &str {
    model_name.rsplit('/').next().unwrap_or(model_name)
}

/// The embedding dimension of a CLIP model, or `None` when Immich does not know the model.
pub fn clip_dimension(model_name: &str) -> Option<u32> {
    let name = clean(model_name).replace(':', "_");
    CLIP_MODELS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(_, dimension)| dimension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_as_immich_cleans_them() {
        assert_eq!(clip_dimension("ViT-B-32__openai"), Some(512));
        assert_eq!(clip_dimension("immich-app/ViT-B-16-SigLIP2__webli"), Some(768));
        assert_eq!(clip_dimension("ViT-B-32_:openai"), Some(512));
        assert_eq!(clip_dimension("ViT-Z-99__nowhere"), None);
    }
}
