"""Pattern tables for :mod:`nemovideo.intents` (data only; the logic lives there).

Routing patterns are matched with ``fullmatch`` against one *clause* of the user's sentence after
NFKC normalisation and case folding: a clause is a command only when all of it is one (optional
polite prefix, the command, optional parameters and politeness). That is what keeps "add an
export-style title" or "make the credits roll at the end" out of the export and credits actions.
GUI patterns are matched with ``match`` at the start of a clause of the backend's reply: the
backend gives GUI instructions in the imperative ("click ...", "点击 ...").
"""

from __future__ import annotations

import re
from typing import Final, Literal

import attrs

Action = Literal["export", "credits", "state", "upload", "chat"]

_F = re.IGNORECASE | re.VERBOSE

# --- routing -----------------------------------------------------------------------------------

_EN_PREFIX = r"""
(?:(?:please|pls|plz|kindly|ok(?:ay)?|so|and|then|now|just|hey|hi|hello|alright|all\s+right
  |great|cool|nice|perfect|thanks|thank\s+you|right|well|next|finally|also|nemo|first
  |go\s+ahead\s+and|(?:can|could|would|will)\s+(?:you|u)
  |(?:can|could|may)\s+i|i\s+(?:want|need|have|would\s+like|will)\s+to|i'd\s+like\s+to
  |i'll|i\s+wanna|i\s+want\s+you\s+to|let\s+me|let's|lets|help\s+me|time\s+to|ready\s+to
  |how\s+(?:do|can|should)\s+i|how\s+to|try\s+to)\s*)*"""

_EN_SUFFIX = r"""
(?:\s*(?:please|pls|plz|now|right\s+now|thanks|thank\s+you|thx|for\s+me|asap|again|then|too|nemo
  |when\s+(?:it's\s+|you're\s+)?ready|if\s+(?:you\s+can|possible)))*"""

_ZH_PREFIX = r"""
(?:请你?|麻烦你?|帮我|帮忙|给我|我要|我想要?|我需要|我得|现在|那就|那么|就|好的?|好了|行|嗯|可以
  |能不能|能否|可不可以|你能|你可以|直接|马上|立即|立刻|再|先|然后|也|顺便)*"""

_ZH_SUFFIX = (
    r"(?:吧|吗|嘛|呢|啊|呀|哦|喔|了|一下|谢谢|谢啦|多谢|好吗|好不好|可以吗|行吗|行不行|哈|呗)*"
)

_FORMAT = r"mp4|mov|webm|gif|mkv|avi|m4v"
_RES = r"\d{3,4}\s?p|(?:480|540|720|1080|1440|2160|4320)(?!\s?fps)|[248]k|uhd|fhd|full\s?hd|qhd|hd"
_QUAL_EN = r"""high(?:est)?(?:-quality)?|best|max(?:imum)?|hq|top|medium|standard|normal|mid
  |low(?:est)?|draft|fast|good|original|ultra|lossless|\d{2,3}\s?fps"""
_QUAL_ZH = r"高清|超清|蓝光|原画|高质量|高画质|最高画质|最高质量|最佳画质|标清|标准|中等|普通|低质量|低画质|流畅"

_EN_PARAM = rf"""
(?:\s*(?:(?:as|in|at|to|with|using|into)\s+)?(?:(?:an?|the)\s+)?(?:{_FORMAT}|{_RES}|{_QUAL_EN})
  (?:\s+(?:quality|resolution|res|format|file|video|version|definition))?)"""
_ZH_PARAM = rf"""
(?:(?:成|为|成为|格式为|格式是|用|按)?(?:{_FORMAT}|{_RES}|{_QUAL_ZH})(?:的|格式|画质|质量|分辨率|视频|文件)?)"""

_EN_VIDEO = r"(?:final\s+|finished\s+|edited\s+|whole\s+|rendered\s+|exported\s+|complete\s+)?(?:video|movie|clip|film|mp4|file|result|project|output|render|cut|version)"
_EN_DEST = r"""(?:\s+(?:to|onto|on)\s+(?:me|us|my\s+(?:computer|laptop|desktop|disk|phone|device|downloads|email|inbox)|disk))"""

_EXPORT_EN = rf"""
(?:(?:export|download|render|save|finali[sz]e|output)
   (?:\s+(?:it|this|that|them|everything|(?:(?:the|my|our|this|that)\s+)?{_EN_VIDEO}))?
   (?:\s+(?:out|now|locally))?{_EN_DEST}?{_EN_PARAM}*
 |(?:send|give|get|share|email|hand)(?:\s+(?:me|us|over))?
   \s+(?:(?:the|my|our|a|that|this)\s+)?(?:{_EN_VIDEO}|download(?:\s+link)?|link)(?:\s+file)?
   {_EN_DEST}?{_EN_PARAM}*
 |(?:send|give|get|share)\s+it(?:\s+over)?{_EN_DEST}?{_EN_PARAM}*
 |(?:i\s+want|i\s+need|can\s+i\s+(?:have|get)|where's|where\s+is)\s+(?:the|my)\s+
   (?:{_EN_VIDEO}|download\s+link)
 |(?:the\s+)?download\s+link
 |(?:{_FORMAT})\s+export)"""

_EXPORT_ZH = rf"""
(?:把|将)?(?:视频|影片|成片|作品|它|这个|这个视频|最终视频|最终成片|结果)?(?:给我)?
(?:导出|下载|输出|渲染|保存|生成成片|发给我|发我|传给我|发过来|给我(?=视频|成片|影片))(?:来|出来|下来|一下)?
(?:{_ZH_PARAM})*(?:视频|成片|影片|文件|链接|下载链接)?(?:{_ZH_PARAM})*"""

_CREDITS_EN = r"""
(?:(?:(?:check|show|see|view|get|display|tell|what's|what\s+is|what\s+are|how\s+much|how\s+many)\s+)?
   (?:(?:me|is|are)\s+)?(?:(?:my|the|our|current|remaining|available|account|credit)\s+)*
   (?:credits?|balance|points|quota)
   (?:\s+(?:left|remaining|balance|available|status|do\s+i\s+have(?:\s+left)?|have\s+i\s+got
     |are\s+left|is\s+left|i\s+have(?:\s+left)?|do\s+we\s+have(?:\s+left)?))*
 |(?:am\s+i|i'm|are\s+we)\s+out\s+of\s+(?:credits?|points)
 |do\s+i\s+have\s+(?:enough\s+|any\s+)?(?:credits?|points|balance)(?:\s+left)?)"""

_CREDITS_ZH = r"""
(?:(?:查|查看|查询|看|看看|显示|告诉我|检查)?(?:一下)?(?:我的|我|账户|帐户|当前|剩余|现在|还剩|的)*
   (?:余额|积分|点数|额度|信用点|credits?)(?:还)?(?:剩|剩下|剩余|有)?(?:多少|几个|几点)?
   (?:够不够|够吗|还够吗)?
 |(?:我)?(?:还)?(?:有|剩|剩下)(?:多少|几个)(?:积分|余额|点数|额度))"""

_STATE_EN = r"""
(?:(?:(?:show|check|see|view|get|display|give|tell|list)(?:\s+(?:me|us))?\s+)?
   (?:(?:the|my|our|current|a|an|this|me)\s+)*
   (?:status|state|progress|tracks?|timeline|draft|summary|overview|track\s+(?:list|summary)
     |timeline\s+summary|project\s+(?:status|state|summary))
   (?:\s+(?:of|for)\s+(?:the\s+|my\s+|this\s+)?(?:video|project|session|timeline|draft|edit))?
   (?:\s+(?:so\s+far|now))*
 |what(?:'s|\s+is)\s+(?:the\s+)?(?:current\s+)?(?:status|state|progress)
 |what(?:'s|\s+is)\s+(?:on|in)\s+the\s+timeline
 |what\s+tracks\s+(?:are\s+there|do\s+we\s+have|do\s+i\s+have)
 |what\s+do\s+(?:we|i)\s+have\s+so\s+far
 |where\s+are\s+we(?:\s+at)?|how's\s+it\s+going|how\s+is\s+it\s+going
 |preview(?:\s+(?:it|this|the\s+video|the\s+timeline))?)"""

_STATE_ZH = r"""
(?:(?:查看|查|看看|看一下|看|显示|给我看|告诉我|展示)?(?:一下)?(?:当前|现在|目前|项目|视频|草稿)?(?:的)?
   (?:状态|进度|轨道|时间线|时间轴|草稿|概况|情况|预览)(?:怎么样|如何|是什么|是啥)?
 |现在(?:是)?什么状态|进展如何|做到哪(?:了|一步了)?)"""

_UPLOAD_EN = r"""
(?:(?:upload|import|attach)(?:ing)?
   (?:\s+(?:some|my|these|those|the|a|an|more|new|a\s+few|this|that))*
   (?:\s+(?:files?|images?|photos?|pictures?|pics|videos?|clips?|media|footage|music|audio|songs?|assets))?
   (?:\s+(?:here|now|first))?
 |here\s+(?:are|is)\s+(?:my\s+|the\s+|some\s+)?(?:files?|images?|photos?|pictures?|pics|videos?|clips?|media|footage))"""

_UPLOAD_ZH = r"""
(?:(?:上传|导入|传)(?:一些|几张|几个|个)?(?:我的|这些|这个|一些|几张|几个)?
   (?:文件|图片|照片|视频|素材|音乐|音频)?
 |这是我的(?:文件|图片|照片|视频|素材))"""


def _command(en: str, zh: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:{_EN_PREFIX})(?:{_ZH_PREFIX})(?:{en}|{zh})(?:{_ZH_SUFFIX})(?:{_EN_SUFFIX})", _F
    )


COMMANDS: Final[tuple[tuple[Action, re.Pattern[str]], ...]] = (
    ("export", _command(_EXPORT_EN, _EXPORT_ZH)),
    ("credits", _command(_CREDITS_EN, _CREDITS_ZH)),
    ("state", _command(_STATE_EN, _STATE_ZH)),
    ("upload", _command(_UPLOAD_EN, _UPLOAD_ZH)),
)

EXPORT_PARAMS: Final = re.compile(rf"(?:{_EN_PARAM}|{_ZH_PARAM})+(?:{_EN_SUFFIX})", _F)

FILLER: Final = re.compile(
    r"""
(?:(?:ok(?:ay)?|k|yes|yeah|yep|sure|please|pls|thanks|thank\s+you|thx|ty|great|cool|nice|perfect
  |awesome|amazing|wonderful|excellent|good|fine|alright|all\s+right|hi|hello|hey|yo|wow|now|so
  |well|right|nemo|good\s+job|nice\s+work|well\s+done|(?:i\s+)?love\s+it|all\s+done
  |that's\s+(?:it|all|great|good|perfect|nice)
  |(?:it|this|that|the\s+video)(?:'s|\s+(?:looks|is|sounds|seems))\s+(?:really\s+|very\s+|so\s+)?
     (?:great|good|nice|perfect|fine|awesome|amazing)
  |looks\s+(?:really\s+|very\s+|so\s+)?(?:great|good|nice|perfect|fine|awesome|amazing)
  |(?:i'm|i\s+am|we're|we\s+are)\s+(?:happy|satisfied|done|good|fine|finished|ready)
     (?:\s+with\s+(?:it|this|that|the\s+(?:video|result|edit)))?
  |好的?|好啦|好了|行|可以|谢谢|谢啦|多谢|不错|很好|太好了|太棒了|棒|完美|没问题|嗯+|哦|挺好|非常好|很棒
  |辛苦了|你好|哈喽)\s*)+""",
    _F,
)

CLAUSE_SPLIT: Final = re.compile(
    r"[.!?;,:。！？；，、…：~]+|\s+[-–—]+\s+|\s+(?:and\s+then|and|then|but|also)\s+"
    r"|然后|并且|接着|之后再|再来"
)
EDGE_JUNK: Final = re.compile(r"^[\W_]+|[\W_]+$")
CJK_SPACE: Final = re.compile(r"(?<=[\u3000-\u9fff])\s+|\s+(?=[\u3000-\u9fff])")
WHITESPACE: Final = re.compile(r"\s+")
QUOTES: Final = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"'})
TRADITIONAL: Final = str.maketrans(
    "額導狀態積傳載軌時間線視頻點擊開戶帳賬單圖鈕預覽進還數這個幫請麼給發餘態設選單頁側欄覽",
    "额导状态积传载轨时间线视频点击开户帐账单图钮预览进还数这个帮请么给发余态设选单页侧栏览",
)

_A = r"(?<![a-z0-9])"
_Z = r"(?![a-z0-9])"
FORMAT_RE: Final = re.compile(rf"{_A}({_FORMAT}){_Z}")
RESOLUTIONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(rf"{_A}(\d{{3,4}})\s?p{_Z}"), r"\1p"),
    (re.compile(rf"{_A}(480|540|720|1080|1440|2160|4320){_Z}(?!\s?fps)"), r"\1p"),
    (re.compile(rf"{_A}(?:4k|uhd|超高清){_Z}"), "2160p"),
    (re.compile(rf"{_A}(?:2k|qhd){_Z}"), "1440p"),
    (re.compile(rf"{_A}8k{_Z}"), "4320p"),
    (re.compile(rf"{_A}(?:fhd|full\s?hd){_Z}"), "1080p"),
    (re.compile(rf"{_A}hd{_Z}"), "720p"),
)
QUALITIES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(rf"{_A}(?:high(?:est)?|best|max(?:imum)?|hq|top|original){_Z}"), "high"),
    (re.compile(r"高清|超清|蓝光|原画|高质量|高画质|最高|最佳"), "high"),
    (re.compile(rf"{_A}(?:medium|standard|normal|mid){_Z}|标清|标准|中等|普通"), "medium"),
    (re.compile(rf"{_A}(?:low(?:est)?|draft|fast){_Z}|低质量|低画质|流畅"), "low"),
    (re.compile(rf"{_A}(?:ultra|lossless){_Z}"), "ultra"),  # not offered: refused, named
)

# --- GUI talk ----------------------------------------------------------------------------------


@attrs.frozen
class GuiRule:
    """One kind of GUI instruction: ``pattern`` matches a clause's start; ``needs`` must occur in
    it; the first object named in the clause decides the action when ``objects`` allows."""

    name: str
    pattern: re.Pattern[str]
    default: Action
    objects: Literal["any", "upload", "none"] = "any"
    needs: re.Pattern[str] | None = None


_LEAD = r"""
^(?:(?:\d+[.)]|[-*•>#])\s*)?
(?:(?:please|just|simply|now|then|and|next|finally|also|first|afterwards|once\s+done
  |you\s+can(?:\s+(?:then|also|now|simply|just))?|you\s+may|you\s+could|you'll\s+(?:need|want)\s+to
  |you\s+(?:need|have|want|might\s+want)\s+to|feel\s+free\s+to|go\s+ahead\s+and|try(?:\s+to)?
  |remember\s+to|don't\s+forget\s+to|make\s+sure\s+(?:to|you)|be\s+sure\s+to
  |请|您可以|你可以|可以|然后|再|接着|之后|最后|先|直接|只需|只要|即可|就可以|需要)[\s,]*)*
(?:(?:在|从)[^,，。]{0,16}?(?:中|里|上|内|处)[\s,，]*)?
(?:(?:将|把)[^,，。]{0,16}?)?"""

_GUI_NOUN = re.compile(
    r"""(?<![a-z])(?:panel|tab|menu|settings?|sidebar|editor|timeline|page|dashboard|window|inspector
  |properties|library|toolbar|account|billing|profile|workspace|preview|player|dialog|screen|section
  |view|button|icon)s?(?![a-z])
  |面板|设置|菜单|页面|窗口|编辑器|时间线|时间轴|侧边栏|工具栏|账户|帐户|账号|个人中心|素材库|选项卡|标签页|界面|预览""",
    _F,
)


def _gui(body: str) -> re.Pattern[str]:
    return re.compile(f"{_LEAD}(?:{body})", _F)


GUI_RULES: Final[tuple[GuiRule, ...]] = (
    GuiRule(
        "click",
        _gui(
            r"(?:(?:double|right|left)[-\s]?)?(?:click|tap|press|hit|push)(?![a-z])"
            r"|点击|单击|双击|右击|右键|点一下|点选|轻点|按下|按一下|点开"
        ),
        "chat",
    ),
    GuiRule(
        "select",
        _gui(r"(?:select|choose|pick|use|find|locate)\s|选择|选中|选取|找到"),
        "chat",
        needs=re.compile(
            r"(?<![a-z])(?:button|icon|tab|menu|toolbar|panel|link|drop-?\s?down)s?(?![a-z])"
            r"|按钮|图标|菜单|下拉|选项卡|工具栏|面板|素材库|链接"
        ),
    ),
    GuiRule(
        "select-item",
        _gui(
            r"(?:select|highlight)\s+(?:the\s+|a\s+|that\s+|this\s+)?(?:clip|segment|layer|text\s+box)"
        ),
        "chat",
        objects="none",
    ),
    GuiRule(
        "open",
        _gui(
            r"(?:open(?:\s+up)?|go\s+(?:over\s+)?to|navigate\s+to|head\s+(?:over\s+)?to|switch\s+to"
            r"|visit|expand|access)(?![a-z])|打开|进入|前往|切换到|展开|去"
        ),
        "state",
        needs=_GUI_NOUN,
    ),
    GuiRule(
        "drag",
        _gui(
            r"(?:drag(?:\s*(?:and|&|-|n)\s*drop)?|drop\s.*(?:here|into|onto|area|zone|box|timeline))"
            r"(?![a-z])|拖拽|拖动|拖放|拖到|拖入|拖进|拖曳|拖(?!延)"
        ),
        "chat",
        objects="upload",
    ),
    GuiRule(
        "upload",
        _gui(r"(?:upload|import)\s"),
        "upload",
        objects="none",
        needs=re.compile(r"(?<![a-z])(?:click|tap|press|button|drag)|点击|按钮|拖", re.I),
    ),
    GuiRule(
        "preview",
        _gui(
            r"(?:preview|play\s+(?:it\s+)?back|(?:play|watch|review)\s.*"
            r"(?:timeline|player|preview|editor|window|panel))(?![a-z])|预览|播放|回放"
        ),
        "state",
        objects="none",
    ),
    GuiRule(
        "account",
        _gui(
            r"(?:check|view|see|look\s+at|find|top\s+up|recharge|manage|upgrade)(?![a-z])"
            r"|查看|检查|充值|升级"
        ),
        "credits",
        objects="none",
        needs=re.compile(
            r"(?<![a-z])(?:balance|account|billing|subscription|plan|wallet|your\s+credits|remaining"
            r"\s+credits|top[-\s]right|upper[-\s]right)(?![a-z])|余额|积分|账户|帐户|账单|会员|右上角",
            re.IGNORECASE,
        ),
    ),
    GuiRule(
        "pointer",
        _gui(r"(?:hover\s+over|scroll\s+(?:down|up)|mouse\s+over)(?![a-z])|悬停|滚动到"),
        "chat",
    ),
)

OBJECTS: Final[tuple[tuple[Action, re.Pattern[str]], ...]] = (
    ("export", re.compile(r"(?<![a-z])(?:export|download|render)|导出|下载|渲染", re.I)),
    (
        "upload",
        re.compile(
            r"(?<![a-z])(?:upload|import|media\s+library|(?:your\s+)?files?(?![a-z]))"
            r"|上传|导入|素材库|文件",
            re.I,
        ),
    ),
    (
        "credits",
        re.compile(
            r"(?<![a-z])(?:credits?|balance|billing|account|top[-\s]?up|recharge|subscription"
            r"|plan|wallet)(?![a-z])|余额|积分|充值|账户|帐户|账号|账单|会员",
            re.I,
        ),
    ),
    (
        "state",
        re.compile(
            r"(?<![a-z])(?:timeline|tracks?|preview|panel|player|editor|canvas|inspector)(?![a-z])"
            r"|时间线|时间轴|轨道|预览|面板|播放器|编辑器|画布",
            re.I,
        ),
    ),
)

GUI_HINT: Final = re.compile(
    r"(?<![a-z])(?:click|tap|press|hit|push|select|choose|pick|use|find|locate|open|go|navigate"
    r"|head|switch|visit|expand|access|drag|drop|preview|play|watch|review|check|view|see|look"
    r"|top|recharge|manage|upgrade|hover|scroll|mouse|upload|import)(?![a-z])"
    r"|点|单击|双击|右|按|选|找到|打开|进入|前往|切换|展开|去|拖|预览|播放|回放|查看|检查|充值|升级|悬停|滚动",
    re.I,
)

SENTENCE_SPLIT: Final = re.compile(r"((?<=[.!?])\s+|(?<=[。！？])[ \t]*|\s*\n\s*)")
LIST_MARKER: Final = re.compile(r"\s*(?:\d+[.)]|[-*•])\s*")
CLAUSE_SEP: Final = re.compile(
    r"(\s*[,;，；]\s*(?:(?:and\s+)?then\s+)?|\s+(?:and\s+)?then\s+|\s*(?:然后|接着)\s*)",
    re.I,
)
CONNECTIVE: Final = re.compile(
    r"^(?:(?:and|then|now|next|so|finally|also|or|然后|再|接着|并)[\s,，]*)+", re.I
)
SUBORDINATE: Final = re.compile(
    r"^(?:to|in\s+order\s+to|if|when|once|after|before|so\s+that)(?![a-z])|^(?:如需|如果|若|要|为了)",
    re.I,
)
MARKUP: Final = re.compile(r"[*_`]")
CJK: Final = re.compile(r"[\u3000-\u9fff]")

HINTS: Final[dict[Action, tuple[str, str]]] = {
    "export": ('Say "export" to render and download the MP4.', "说“导出”即可渲染并下载视频。"),
    "upload": ("Attach your files and I will upload them.", "附上文件，我会帮你上传。"),
    "credits": ('Say "credits" to see your balance.', "说“余额”即可查看积分。"),
    "state": ('Say "status" to see the timeline.', "说“状态”即可查看时间线。"),
    "chat": ("Tell me the change and I will make it.", "告诉我要怎么改，我来完成。"),
}
PRIORITY: Final[tuple[Action, ...]] = ("export", "upload", "credits", "state", "chat")
