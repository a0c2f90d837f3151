// The emoji text-to-image latent diffusion pipeline (issue 10) in the browser and Node.
//
// The interface as built (the brief's, plus a few additions marked "added"):
//
//   loadEmojiPipeline(baseUrl: string, fetchImpl?: typeof fetch): Promise<EmojiPipeline>
//     throws ModelLoadError(file, problem) for a missing / malformed / mismatched component
//
//   class EmojiPipeline {
//     readonly card: PipelineCard;
//     readonly tokenizer: WordTokenizer;     // encode(text) -> {ids, words, unknown, truncated},
//                                            // suggest(prefix, limit) for autocomplete
//     encodePrompt(text): { hidden: tf.Tensor3D /* [1, L, D], caller disposes */;
//                           ids: number[]; unknown: string[]; truncated: boolean };
//     readonly denoiser: TextLatentDenoiser; // DenoiseModel over latents [8, 8, 4], v_prediction;
//                                            // setPrompt(cond, uncond) ([1, L, D] each, copied),
//                                            // class 0 = prompt, nullClass 1 = negative prompt
//     decode(latents: tf.Tensor4D): tf.Tensor4D; // normalised latents -> NHWC pixels, clamped to [-1, 1]
//     encode(images: tf.Tensor4D, noise?: tf.Tensor4D): tf.Tensor4D; // pixels -> normalised latents
//     dispose(): void;
//     // added:
//     readonly runModel: RunModel;           // { denoiser, numClasses: 1, scheduleConfig } for DiffusionRun
//     readonly scheduleConfig: Record<string, unknown>; // scheduler/scheduler_config.json minus _class_name
//     readonly latentShape: [8, 8, 4]; readonly pixelShape: [32, 32, 3];
//     setPrompt(prompt: string, negativePrompt = ''): { prompt: PromptReport; negative: PromptReport };
//                                            // encodes both and calls denoiser.setPrompt
//     readonly textEncoder; readonly unet; readonly vae;   // the components themselves
//   }
//
// Before any setPrompt the denoiser conditions on the empty prompt for both rows (unconditional).
export { loadEmojiPipeline, EmojiPipeline, checkComponentsAgree } from './pipeline';
export type { EncodedPrompt, PromptReport } from './pipeline';
export { TextLatentDenoiser, PROMPT_CLASS, NEGATIVE_CLASS } from './textLatentDenoiser';
export { WordTokenizer, wordsOf, SPECIAL_TOKENS } from './tokenizer';
export type { TokenizedPrompt } from './tokenizer';
export { LatentUNet, latentUNetTensorShapes } from './latentUnet';
export { EmojiTextEncoder, textEncoderTensorShapes } from './textEncoder';
export { Autoencoder, vaeTensorShapes } from './vae';
export type { Posterior } from './vae';
export { checkModelIndex, parsePipelineCard, PIPELINE_CARD_FORMAT } from './pipelineCard';
export type { PipelineCard } from './pipelineCard';
export { decodeSafetensors, readSafetensorsHeader } from './safetensors';
export type { LatentUNetConfig, TextEncoderConfig, TokenizerConfig, VaeConfig } from './config';
