"""Every way of reaching a model, behind one contract (`base.Backend`), chosen by protocol name.

    get_completion(endpoint, inputs, parameters)   the helper every tab calls, for one answer
    request(endpoint, asked)                       what that (or a chat turn) sends, unsent
    chat_request(endpoint, messages, settings)     a chat turn as data (pure)
    stream_chat(endpoint, request, cancel)         the reply as `Delta`s; Cancel stops it
    capabilities(endpoint)                         what its backend is and says (data)

    protocol  module        speaks                                        selected by
    openai    openai_chat   OpenAI-compatible chat completions (router    STUDIO_CHAT_BASE,
                            /v1, vLLM, llama.cpp, transformers serve);    STUDIO_CAPTION_CHAT_BASE,
                            `self_hosted`: how servers of one's own       the router for chat
                            differ; `model_list`: what they serve         and caption
    tgi       tgi           TGI's /generate_stream with a prompt template HF_API_FALCOM_BASE
    task      task_api      the Hugging Face task API (router             HF_API_*_BASE, the router
                            hf-inference, endpoints, the toolkit)         for summarize and ner
    providers providers     text to image on any Inference Provider       the router for image
                            (huggingface_hub's helpers; `hub`: which)     (STUDIO_IMAGE_PROVIDER)
    local     local         models in this process (the optional extra)   STUDIO_LOCAL, --local

Each backend says which settings select it (`Capabilities.servers`, `.router`, `.in_process`);
the configuration asks the registry. `chat_shapes` holds what the chat backends share (the
chat-completions body and chunks, a cut stream's message). A new server type is one module and
one line in `registry.BACKENDS`. The HTTP ones send through `transport` (retries, deadlines,
size caps, status -> error, stream framing), which imports none of them. This file imports
nothing, so the registry and the protocol modules never import each other through it.
"""
