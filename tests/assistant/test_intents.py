"""Routing user sentences (PROTOCOL.md's routing table) and translating the backend's GUI talk."""

from __future__ import annotations

import unicodedata

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.intents import ACTIONS, GuiTranslation, Intent, normalize, route, translate_gui

ROUTES: list[tuple[str, str]] = [
    # export / 导出 / download / send me the video
    ("export", "export"),
    ("Export", "export"),
    ("EXPORT!", "export"),
    ("export it", "export"),
    ("export the video", "export"),
    ("please export the final video", "export"),
    ("Export it now, please.", "export"),
    ("download", "export"),
    ("download the video", "export"),
    ("Can I download it?", "export"),
    ("I'd like to download my video", "export"),
    ("can you send me the video?", "export"),
    ("Could you please send me the final video?", "export"),
    ("send it to me", "export"),
    ("give me the mp4", "export"),
    ("get the download link", "export"),
    ("where is my video?", "export"),
    ("render it", "export"),
    ("Looks great, export it!", "export"),
    ("ok thanks, download the video please", "export"),
    ("how do I export?", "export"),
    ("导出", "export"),
    ("导出视频", "export"),
    ("下载视频", "export"),
    ("帮我导出一下", "export"),
    ("把视频发给我", "export"),
    ("好的，导出吧！", "export"),
    ("我想下载成片", "export"),
    # credits / 积分 / balance / 余额
    ("credits", "credits"),
    ("Credits?", "credits"),
    ("balance", "credits"),
    ("check my balance", "credits"),
    ("what's my balance?", "credits"),
    ("How many credits do I have left?", "credits"),
    ("show credits", "credits"),
    ("credits left?", "credits"),
    ("am I out of credits?", "credits"),
    ("do I have enough credits", "credits"),
    ("余额", "credits"),
    ("查一下余额", "credits"),
    ("积分", "credits"),
    ("我还有多少积分？", "credits"),
    ("查询账户余额", "credits"),
    ("积分还剩多少", "credits"),
    # status / 状态 / show tracks
    ("status", "state"),
    ("Status?", "state"),
    ("show tracks", "state"),
    ("show me the tracks", "state"),
    ("show me the status", "state"),
    ("what's the status?", "state"),
    ("show the timeline", "state"),
    ("what's on the timeline?", "state"),
    ("where are we?", "state"),
    ("preview", "state"),
    ("状态", "state"),
    ("查看状态", "state"),
    ("现在什么状态？", "state"),
    ("显示轨道", "state"),
    ("看看时间线", "state"),
    # upload / 上传
    ("upload", "upload"),
    ("upload files", "upload"),
    ("I want to upload some photos", "upload"),
    ("let me upload a video", "upload"),
    ("上传", "upload"),
    ("我要上传图片", "upload"),
    ("上传素材", "upload"),
    # anything else -> chat
    ("turn these images into a 15-second video", "chat"),
    ("add lo-fi BGM at 35%", "chat"),
    ("make it 15 seconds with smooth transitions", "chat"),
    ("generate a video of a sunset", "chat"),
    ("把背景音乐调到50%", "chat"),
    ("加一个标题：城市之光", "chat"),
    ("", "chat"),
    ("   ", "chat"),
    ("thanks!", "chat"),
    ("yes", "chat"),
    ("好的", "chat"),
    # near misses: an edit that mentions a routing word goes to chat
    ("add an export-style title", "chat"),
    ("make the credits roll at the end", "chat"),
    ("add end credits with our names", "chat"),
    ("show credits at the end of the video", "chat"),
    ("upload-style transition", "chat"),
    ("add an upload-style transition between clips", "chat"),
    ("add a status bar overlay", "chat"),
    ("add a progress bar at the bottom", "chat"),
    ("give me a video of a cat", "chat"),
    ("download the music from the intro and use it as BGM", "chat"),
    ("render the title in bold red", "chat"),
    ("don't export yet", "chat"),
    ("add a title and then export", "chat"),
    ("make the timeline 20 seconds long", "chat"),
    ("save the title style for later", "chat"),
    ("upload to youtube", "chat"),
    ("export the subtitles as srt", "chat"),
    ("加一个导出风格的标题", "chat"),
    ("在视频结尾显示积分", "chat"),
    ("把上传的图片做成视频", "chat"),
    ("在时间线末尾加一段音乐", "chat"),
    ("what is the best export format?", "chat"),
    ("balance the audio levels", "chat"),
    ("state the title in bold", "chat"),
    ("show the progress of the sunset", "chat"),
    ("upload my logo and put it in the corner", "chat"),
    ("把积分显示在片尾", "chat"),
    ("把下载按钮做成动画", "chat"),
    # more ways to say a command
    ("I'm happy with it, export now", "export"),
    ("EXPORT 1080P MP4!!!", "export"),
    ("save the video to my computer", "export"),
    ("email me the video", "export"),
    ("what's my credit balance", "credits"),
    ("how's it going?", "state"),
    ("list tracks", "state"),
    ("here are my photos", "upload"),
    ("帮我导出视频", "export"),
    ("余额还剩多少？", "credits"),
    ("现在做到哪了", "state"),
    # traditional Chinese
    ("導出", "export"),
    ("下載視頻", "export"),
    ("查一下餘額", "credits"),
    ("狀態", "state"),
    ("上傳圖片", "upload"),
]


@pytest.mark.parametrize(("sentence", "action"), ROUTES)
def test_route_table(sentence: str, action: str) -> None:
    intent = route(sentence)
    assert intent.action == action, intent
    assert intent.text == sentence
    assert intent.via_chat == (action == "chat")


def test_route_table_is_big_and_covers_every_action() -> None:
    assert len(ROUTES) >= 80
    assert {a for _, a in ROUTES} == set(ACTIONS)
    assert sum(1 for s, _ in ROUTES if any("\u4e00" <= c <= "\u9fff" for c in s)) >= 25


def _fullwidth(text: str) -> str:
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text
    )


@pytest.mark.parametrize(("sentence", "action"), ROUTES)
def test_route_is_robust_to_case_width_and_punctuation(sentence: str, action: str) -> None:
    assert route(sentence.upper()).action == action
    assert route(_fullwidth(sentence)).action == action
    for decorated in (
        f"  {sentence}  ",
        f"{sentence}!!",
        f"{sentence}？",
        f"“{sentence}”",
        f"{sentence} 🙂",
    ):
        assert route(decorated).action == action, decorated


@pytest.mark.parametrize(
    ("sentence", "params"),
    [
        ("export 1080p MP4", {"format": "mp4", "resolution": "1080p"}),
        (
            "Export the video as an MP4 in high quality, please!",
            {"format": "mp4", "quality": "high"},
        ),
        ("export it in 4k", {"resolution": "2160p"}),
        ("download in 720p, low quality", {"resolution": "720p", "quality": "low"}),
        ("export as webm", {"format": "webm"}),
        ("render it in full hd", {"resolution": "1080p"}),
        ("export", {}),
        ("ＥＸＰＯＲＴ　１０８０Ｐ　ＭＯＶ", {"format": "mov", "resolution": "1080p"}),
        ("帮我把视频导出成1080p的mp4", {"format": "mp4", "resolution": "1080p"}),
        ("导出高清视频", {"quality": "high"}),
        ("导出 720p", {"resolution": "720p"}),
    ],
)
def test_export_parameters(sentence: str, params: dict[str, str]) -> None:
    intent = route(sentence)
    assert intent.action == "export"
    assert intent.params == params
    assert intent.format == params.get("format")


def test_attachments_alone_upload() -> None:
    for text in ("", "  ", "here are my photos", "上传", "thanks", "upload these"):
        intent = route(text, attachments=["a.jpg"])
        assert intent.action == "upload", text
        assert intent.then is None
        assert intent.reason == "attachments"


def test_attachments_with_an_instruction_upload_then_follow_it() -> None:
    made = route("turn these images into a 15-second video", attachments=["a.jpg", "b.png"])
    assert made.action == "upload" and made.then is not None
    assert made.then.action == "chat"
    exported = route("export 1080p mp4", attachments=[object()])
    assert exported.action == "upload"
    assert exported.then is not None and exported.then.action == "export"
    assert exported.then.params == {"format": "mp4", "resolution": "1080p"}


def test_several_commands_chain_in_order() -> None:
    intent = route("show me the status, then check my balance")
    assert intent.action == "state"
    assert intent.then is not None and intent.then.action == "credits"
    assert intent.then.then is None
    merged = route("export it, in 4k, mp4")
    assert merged.action == "export" and merged.then is None
    assert merged.params == {"format": "mp4", "resolution": "2160p"}


def test_intent_is_a_frozen_value() -> None:
    intent = route("余额")
    assert intent == route("余额")
    assert hash(intent) == hash(route("余额"))
    assert intent.reason == "credits:zh"
    assert route("credits").reason == "credits:en"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        intent.action = "chat"  # type: ignore[misc]


def test_normalize() -> None:
    assert normalize("  ＥＸＰＯＲＴ　It’s  ") == "export it's"
    assert normalize("导出 1080p mp4") == "导出1080p mp4"


GUI_BY_ACTION: dict[str | None, dict[str, str | None]] = {
    "upload": {
        "I can't find any media in this session yet. Click the Upload button to add your media, then ask me again.": "I can't find any media in this session yet. Ask me again.",
        "Drag the file into the upload area.": "",
        "请将文件拖拽到上传区域。": "",
        "Tap Upload to add more photos, or tell me what to change.": "Tell me what to change.",
        "Please upload your images by clicking the + button.": "",
        "Import your clips by dragging them into the timeline.": "",
    },
    "export": {
        "Your 15-second video is ready in the timeline. Preview it, then click the Export button to download the MP4.": "Your 15-second video is ready in the timeline.",
        "Transitions added. Click **Export** when you're happy.": "Transitions added.",
        "视频已生成。点击导出按钮下载视频。": "视频已生成。",
        "背景音乐已添加。您可以在时间线中预览效果，然后点击右上角的导出按钮。": "背景音乐已添加。",
        "Music added. Use the Export button in the toolbar to save the MP4.": "Music added.",
        "Select MP4 from the format dropdown and click Export.": "",
        "请从下拉菜单中选择MP4，然后点击导出。": "",
        "视频已生成。从菜单中选择导出即可。": "视频已生成。",
    },
    "state": {
        "Lo-fi BGM added at 35%. Open the audio panel to fine-tune it.": "Lo-fi BGM added at 35%.",
        "The canvas is now 9:16. Open the canvas panel to check the framing.": "The canvas is now 9:16.",
        "Title added.\nNext, preview it in the timeline.\nThen tell me what to change.": "Title added.\nThen tell me what to change.",
        "背景音乐已添加。打开音频面板可以微调音量。": "背景音乐已添加。",
        "字幕已更新。请在时间线中预览。": "字幕已更新。",
        "已添加转场。请打开设置页面修改分辨率。": "已添加转场。",
    },
    "chat": {
        'The title "Urban Dreams" opens the video; drag it on the timeline to move it.': 'The title "Urban Dreams" opens the video.',
        "标题已添加，把它拖到时间线上调整位置。": "标题已添加。",
        "Select the clip, then press Delete to remove it.": "",
        "Go ahead and press Generate. It takes about 2 minutes.": "It takes about 2 minutes.",
        "请点击“生成”按钮开始制作。": "",
    },
    "credits": {
        "Done! You can check your balance in the top-right corner.": "Done!",
        "Please go to Settings > Billing to top up your credits. Generation costs 100 credits.": "Generation costs 100 credits.",
        "点击右上角查看余额。": "",
        "Head over to your account page to see your remaining credits.": "",
    },
    # no GUI talk: kept verbatim, no action
    None: {
        '"Click the Export button" is now the title.': '"Click the Export button" is now the title.',
        "Title set to: Click here": "Title set to: Click here",
        "Choose a music track you like: lo-fi, jazz, or rock.": "Choose a music track you like: lo-fi, jazz, or rock.",
        "I opened the video with a sunrise shot.": "I opened the video with a sunrise shot.",
        "Added a click sound effect at 3s.": "Added a click sound effect at 3s.",
        "Your video has 3 tracks. The opening shot is 4.5 seconds.": "Your video has 3 tracks. The opening shot is 4.5 seconds.",
        "I made the credits roll at the end.": "I made the credits roll at the end.",
        "已为你打造一段15秒的城市视频。": "已为你打造一段15秒的城市视频。",
        "Upload complete. Your 3 images are in the session.": None,
        "Upload your photos and I will make the video.": None,
        "I used fade and click transitions.": None,
        "请选择一首你喜欢的音乐。": None,
    },
}
"""Replies by the GUI action they imply (``None``: none), each with what it is rewritten to
(``None``: the text as it came)."""
GUI = [
    (text, kept, action) for action, rows in GUI_BY_ACTION.items() for text, kept in rows.items()
]


@pytest.mark.parametrize(("text", "expected", "action"), GUI)
def test_translate_gui(text: str, expected: str | None, action: str | None) -> None:
    result = translate_gui(text)
    assert isinstance(result, GuiTranslation)
    assert result.text == (text if expected is None else expected)
    assert result.action == action
    if action is None:
        assert result.removed == () and result.hint is None
    else:
        assert result.removed and result.hint
        assert "click" not in result.text.lower() and "点击" not in result.text


def test_translate_gui_lists_every_implied_action_and_hints_in_the_reply_language() -> None:
    result = translate_gui("Preview it in the player. Then click Export.")
    assert result.actions == ("state", "export")
    assert result.action == "export"
    assert result.hint is not None and "export" in result.hint
    zh = translate_gui("点击导出按钮。")
    assert zh.hint is not None and "导出" in zh.hint


def test_gui_table_is_big_enough() -> None:
    assert sum(1 for _, _, a in GUI if a is not None) >= 15


# --- properties ----------------------------------------------------------------------------------

WORDS = [
    "the",
    "video",
    "title",
    "music",
    "is",
    "now",
    "ready",
    "bgm",
    "seconds",
    "fade",
    "city",
    "we",
    "added",
    "a",
    "soft",
    "track",
    "标题",
    "音乐",
    "已",
    "添加",
    "视频",
    "15",
    "3.5",
]
GUI_SENTENCES = [
    "Click the Export button to download it.",
    "Open the audio panel to fine-tune it.",
    "Drag it on the timeline to move it.",
    "点击导出按钮。",
    "Check your balance in the top-right corner.",
]

plain_sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(
    lambda ws: " ".join(ws).capitalize() + "."
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.lists(st.none(), max_size=2))
def test_route_never_raises_and_is_deterministic(text: str, attachments: list[None]) -> None:
    intent = route(text, attachments)
    assert isinstance(intent, Intent)
    assert intent.action in ACTIONS
    assert intent == route(text, attachments)
    assert intent.text == text
    if attachments:
        assert intent.action == "upload"


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ROUTES),
    st.sampled_from(["", "please ", "ok, ", "好的，"]),
    st.sampled_from(["", "!", "?", "。", " please", "！！", "..."]),
)
def test_route_is_stable_under_politeness(case: tuple[str, str], pre: str, post: str) -> None:
    sentence, action = case
    if action == "chat":
        return
    assert route(f"{pre}{sentence}{post}").action == action


@settings(max_examples=200, deadline=None)
@given(
    st.lists(plain_sentence, min_size=1, max_size=5),
    st.lists(st.sampled_from(GUI_SENTENCES), max_size=3),
    st.randoms(use_true_random=False),
)
def test_translate_gui_never_loses_content(plain: list[str], gui: list[str], rnd: object) -> None:
    """Every non-GUI sentence survives (a number opening a line is a list marker, not a sentence)."""
    mixed = plain + gui
    rnd.shuffle(mixed)  # type: ignore[attr-defined]
    result = translate_gui(" ".join(["Note.", *mixed]))
    for sentence in plain:
        assert sentence in result.text
    assert (result.action is None) == (not gui)
    assert translate_gui(result.text).text == result.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_translate_gui_never_raises_and_keeps_text_without_gui_talk(text: str) -> None:
    result = translate_gui(text)
    assert isinstance(result.text, str)
    if result.action is None and not result.removed:
        assert result.text == text
    assert (
        len(unicodedata.normalize("NFC", result.text))
        <= len(unicodedata.normalize("NFC", text)) + 1
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120))
def test_full_width_text_routes_like_ascii(text: str) -> None:
    wide = _fullwidth(text)
    assert normalize(wide) == normalize(text)
    narrow, broad = route(text), route(wide)
    assert (broad.action, broad.params, broad.reason) == (
        narrow.action,
        narrow.params,
        narrow.reason,
    )
