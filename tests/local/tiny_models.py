"""Build tiny random models, one folder each, in the layout the real hub models use.

The weights are random, so the answers are nonsense; what matters is that the real loading and
generation code runs end to end in well under a second per model. Every builder seeds torch so
the same folder comes out on every run, and takes keyword dicts that override its config, so the
same code can build a random model of a real model's size (bench/local_models.py does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

WORDS = (
    "the a an of to in and is was on for with at by from that this it as are be were has have "
    "news today city river people team game year week report said says will new old big small "
    "John Mary Paris London Berlin Google Amazon York New Anna Peter Rome Lake Street Bank"
).split()

NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]

# ChatML, as Qwen's tokenizer ships it (a default system turn is left out to keep prompts short).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# ChatML with a reasoning model's switch, as Qwen3 and the DeepSeek-R1 distills ship it: the
# prompt opens <think> for the model, or closes an empty block when enable_thinking is false.
THINKING_TEMPLATE = CHAT_TEMPLATE.removesuffix("{% endif %}") + (
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\n\n</think>\n\n' }}{% else %}{{ '<think>\n' }}{% endif %}{% endif %}"
)


def _fast_tokenizer(tokenizer: Tokenizer, **special_tokens: str):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, model_max_length=128, **special_tokens
    )


def _word_level(specials: list[str], unk: str) -> Tokenizer:
    vocab = {token: index for index, token in enumerate([*specials, *WORDS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token=unk))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(specials)
    return tokenizer


def build_summarizer(folder: Path, config: dict[str, Any] | None = None) -> Path:
    """A one-layer BART that never emits special tokens mid-summary, so words count tokens."""
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(0)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tokenizer = _word_level(specials, "<unk>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = _fast_tokenizer(
        tokenizer,
        bos_token="<s>",
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        mask_token="<mask>",
    )
    sizes = dict(
        vocab_size=tokenizer.get_vocab_size(),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        bos_token_id=0,
        pad_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
        architectures=["BartForConditionalGeneration"],
    )
    model = BartForConditionalGeneration(BartConfig(**{**sizes, **(config or {})})).eval()
    model.generation_config.suppress_tokens = [0, 1, 3, 4]
    model.generation_config.num_beams = 1
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def build_ner(folder: Path, config: dict[str, Any] | None = None) -> Path:
    """A one-layer BERT token classifier with WordPiece pieces; "O" is never predicted."""
    from transformers import BertConfig, BertForTokenClassification

    torch.manual_seed(0)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = ["##s", "##ing", "##er", "##ia", "##on"]
    vocab = {token: index for index, token in enumerate([*specials, *WORDS, *pieces])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.add_special_tokens(specials)
    fast = _fast_tokenizer(
        tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    sizes = dict(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        id2label=dict(enumerate(NER_LABELS)),
        label2id={label: i for i, label in enumerate(NER_LABELS)},
        architectures=["BertForTokenClassification"],
    )
    model = BertForTokenClassification(BertConfig(**{**sizes, **(config or {})})).eval()
    with torch.no_grad():
        # The pipeline drops "O" tokens: make every token an entity, so there is output to check.
        model.classifier.bias[NER_LABELS.index("O")] = -100.0
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def build_captioner(
    folder: Path, text: dict[str, Any] | None = None, vision: dict[str, Any] | None = None
) -> Path:
    """A tiny BLIP with a 32x32 vision tower and a one-layer text decoder."""
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    try:  # newer transformers 5 releases: the default class needs torchvision, this one PIL
        from transformers.models.blip.image_processing_pil_blip import (
            BlipImageProcessorPil as ImageProcessor,
        )
    except ImportError:
        from transformers import BlipImageProcessor as ImageProcessor

    torch.manual_seed(0)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
    tokenizer = _word_level(specials, "[UNK]")
    fast = _fast_tokenizer(
        tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        bos_token="[DEC]",
    )
    text_sizes = dict(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        encoder_hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=64,
        pad_token_id=0,
        sep_token_id=3,
        eos_token_id=3,
        bos_token_id=5,
    )
    vision_sizes = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    vision_config = BlipVisionConfig(**{**vision_sizes, **(vision or {})})
    config = BlipConfig(
        text_config=BlipTextConfig(**{**text_sizes, **(text or {})}).to_dict(),
        vision_config=vision_config.to_dict(),
        projection_dim=32,
        architectures=["BlipForConditionalGeneration"],
    )
    model = BlipForConditionalGeneration(config).eval()
    side = vision_config.image_size
    image_processor = ImageProcessor(size={"height": side, "width": side})
    model.save_pretrained(folder)
    BlipProcessor(image_processor=image_processor, tokenizer=fast).save_pretrained(folder)
    return folder


def _byte_level_bpe(specials: list[str], vocab_size: int = 400) -> tuple[dict[str, int], list]:
    """Train a byte-level BPE (Qwen's kind) on the word list: ids 0.. are the special tokens."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator([" ".join(WORDS)] * 4, trainer=trainer)
    state = json.loads(tokenizer.to_str())["model"]
    return state["vocab"], [tuple(merge) for merge in state["merges"]]


def build_chat(
    folder: Path,
    config: dict[str, Any] | None = None,
    *,
    silent: bool = False,
    chat_template: bool = True,
    thinking: bool = False,
) -> Path:
    """A one-layer Qwen2 with Qwen's tokenizer class over a tiny byte-level BPE and ChatML.

    By default it emits only whole-word tokens (never a special token or a lone byte), so it
    talks in words until max_tokens or a cancel, and the stream has a piece per word; with
    `silent` its final norm is zeroed, every logit ties and greedy decoding picks id 0, which is
    <|im_end|>: the model ends its turn at once. Without `chat_template` it is a base model; with
    `thinking` its template opens a <think> block for it (THINKING_TEMPLATE).
    """
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    torch.manual_seed(0)
    specials = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]
    vocab, merges = _byte_level_bpe(specials)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=specials[:2],
        model_max_length=4096,
    )
    template = THINKING_TEMPLATE if thinking else CHAT_TEMPLATE
    tokenizer.chat_template = template if chat_template else None
    sizes = dict(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        eos_token_id=0,
        pad_token_id=2,
        bos_token_id=None,
        architectures=["Qwen2ForCausalLM"],
    )
    model = Qwen2ForCausalLM(Qwen2Config(**{**sizes, **(config or {})})).eval()
    model.generation_config.eos_token_id = 0
    if silent:
        with torch.no_grad():
            model.model.norm.weight.zero_()
    else:
        lone_bytes = [index for token, index in vocab.items() if len(token) == 1]
        model.generation_config.suppress_tokens = sorted({*range(len(specials)), *lone_bytes})
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _clip_tokenizer():
    """CLIP's BPE over a few whole words: letters, then merges that join them into words."""
    from transformers import CLIPTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens = ["<|startoftext|>", "<|endoftext|>", *letters, *(f"{c}</w>" for c in letters)]
    merges = []
    for word in ("cat", "dog", "red", "sun"):
        for cut in range(1, len(word) - 1):
            merges.append((word[:cut], word[cut]))
            tokens.append(word[: cut + 1])
        merges.append((word[:-1], f"{word[-1]}</w>"))
        tokens.append(f"{word}</w>")
    vocab = {token: index for index, token in enumerate(dict.fromkeys(tokens))}
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def build_text_to_image(
    folder: Path,
    unet: dict[str, Any] | None = None,
    vae: dict[str, Any] | None = None,
    text_encoder: dict[str, Any] | None = None,
) -> Path:
    """A Stable Diffusion pipeline with a two-block UNet, a two-block VAE and a one-layer CLIP."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = _clip_tokenizer()
    unet_sizes = dict(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae_sizes = dict(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=32,
    )
    text_sizes = dict(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_attention_heads=2,
        num_hidden_layers=1,
        max_position_embeddings=77,
        projection_dim=16,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=UNet2DConditionModel(**{**unet_sizes, **(unet or {})}),
        vae=AutoencoderKL(**{**vae_sizes, **(vae or {})}),
        text_encoder=CLIPTextModel(CLIPTextConfig(**{**text_sizes, **(text_encoder or {})})),
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return folder


BUILDERS = {
    "summarize": build_summarizer,
    "ner": build_ner,
    "caption": build_captioner,
    "chat": build_chat,
    "image": build_text_to_image,
}


def build_all(root: Path, sizes: dict[str, dict[str, Any]] | None = None) -> dict[str, Path]:
    """Build every model under `root`; answer {task: folder}.

    `sizes` maps a task to its builder's config overrides, e.g. {"chat": {"config": {...}}}.
    """
    sizes = sizes or {}
    return {task: build(root / task, **sizes.get(task, {})) for task, build in BUILDERS.items()}
