"""Name tables: surnames with their population shares, given names, minority
and foreign names.

Surname shares: the 100 most common surnames of mainland China in the order
of the Ministry of Public Security's surname reports (2007 survey: 王 7.25 %,
李 7.19 %, 张 6.83 %; the top 100 hold about 85 % of the population), shares
rounded to published magnitudes; the remaining ~15 % is spread over a tail
of less common surnames with decreasing weights. Every character here is in
GBK (a test checks), so GBK output never needs a replacement.
"""

from __future__ import annotations

__all__ = [
    "SURNAMES",
    "TAIL_SURNAMES",
    "TOP100_SHARE",
    "COMPOUND_SURNAMES",
    "COMMON_GIVEN",
    "MALE_CHARS",
    "FEMALE_CHARS",
    "UNISEX_CHARS",
    "UYGHUR_MALE",
    "UYGHUR_FEMALE",
    "OTHER_MINORITY_MALE",
    "OTHER_MINORITY_FEMALE",
    "FOREIGN_FIRST_MALE",
    "FOREIGN_FIRST_FEMALE",
    "FOREIGN_LAST",
]

#: (surname, percent of population), ranks 1-100.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.25), ("李", 7.19), ("张", 6.83), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08),
    ("黄", 2.23), ("赵", 2.14), ("吴", 2.05), ("周", 1.97), ("徐", 1.53), ("孙", 1.48),
    ("马", 1.29), ("朱", 1.26), ("胡", 1.22), ("郭", 1.15), ("何", 1.12), ("高", 1.08),
    ("林", 1.03), ("罗", 0.97), ("郑", 0.90), ("梁", 0.86), ("谢", 0.76), ("宋", 0.74),
    ("唐", 0.72), ("许", 0.70), ("韩", 0.68), ("冯", 0.66), ("邓", 0.64), ("曹", 0.62),
    ("彭", 0.60), ("曾", 0.58), ("肖", 0.56), ("田", 0.54), ("董", 0.53), ("袁", 0.52),
    ("潘", 0.51), ("于", 0.50), ("蒋", 0.49), ("蔡", 0.48), ("余", 0.47), ("杜", 0.46),
    ("叶", 0.45), ("程", 0.44), ("苏", 0.43), ("魏", 0.42), ("吕", 0.41), ("丁", 0.40),
    ("任", 0.39), ("沈", 0.38), ("姚", 0.37), ("卢", 0.36), ("姜", 0.35), ("崔", 0.34),
    ("钟", 0.33), ("谭", 0.32), ("陆", 0.31), ("汪", 0.30), ("范", 0.29), ("金", 0.28),
    ("石", 0.28), ("廖", 0.27), ("贾", 0.27), ("夏", 0.26), ("韦", 0.26), ("付", 0.25),
    ("方", 0.25), ("白", 0.24), ("邹", 0.24), ("孟", 0.23), ("熊", 0.23), ("秦", 0.22),
    ("邱", 0.22), ("江", 0.21), ("尹", 0.21), ("薛", 0.20), ("闫", 0.20), ("段", 0.19),
    ("雷", 0.19), ("侯", 0.18), ("龙", 0.18), ("史", 0.17), ("陶", 0.17), ("黎", 0.16),
    ("贺", 0.16), ("顾", 0.16), ("毛", 0.15), ("郝", 0.15), ("龚", 0.15), ("邵", 0.14),
    ("万", 0.14), ("钱", 0.14), ("严", 0.13), ("覃", 0.13), ("武", 0.13), ("戴", 0.13),
    ("莫", 0.12), ("孔", 0.12), ("向", 0.12), ("汤", 0.12),
)

TOP100_SHARE = sum(share for _, share in SURNAMES)  # percent

#: Ranks 101 onwards, most common first; they share what the top 100 leave.
TAIL_SURNAMES: str = (
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤"
    "阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬"
    "边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)

#: Compound surnames (复姓), most common first.
COMPOUND_SURNAMES: tuple[str, ...] = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "呼延", "申屠",
)

#: Whole given names with the gender they are mostly given to ("M", "F" or
#: "U") and a weight, after the most-common-names lists: 伟 芳 娜 …
COMMON_GIVEN: tuple[tuple[str, str, float], ...] = (
    ("伟", "M", 10.0), ("芳", "F", 9.0), ("娜", "F", 8.5), ("敏", "F", 8.0), ("静", "F", 8.0),
    ("秀英", "F", 7.0), ("丽", "F", 7.0), ("强", "M", 6.8), ("磊", "M", 6.6), ("军", "M", 6.4),
    ("洋", "M", 6.2), ("勇", "M", 6.0), ("艳", "F", 6.0), ("杰", "M", 5.8), ("娟", "F", 5.6),
    ("涛", "M", 5.5), ("明", "M", 5.4), ("超", "M", 5.3), ("秀兰", "F", 5.2), ("霞", "F", 5.0),
    ("平", "U", 4.8), ("刚", "M", 4.7), ("桂英", "F", 4.6), ("燕", "F", 4.4), ("辉", "M", 4.3),
    ("玲", "F", 4.2), ("丹", "F", 4.0), ("萍", "F", 3.9), ("鹏", "M", 3.8), ("华", "U", 3.7),
    ("红", "F", 3.6), ("玉兰", "F", 3.5), ("飞", "M", 3.4), ("桂兰", "F", 3.3), ("英", "F", 3.2),
    ("梅", "F", 3.1), ("鑫", "M", 3.0), ("波", "M", 3.0), ("斌", "M", 2.9), ("莉", "F", 2.9),
    ("宇", "M", 2.8), ("浩", "M", 2.8), ("凯", "M", 2.7), ("秀珍", "F", 2.7), ("健", "M", 2.6),
    ("俊", "M", 2.6), ("帆", "U", 2.5), ("雪", "F", 2.5), ("帅", "M", 2.4), ("慧", "F", 2.4),
    ("旭", "M", 2.3), ("宁", "U", 2.3), ("婷", "F", 2.2), ("玉梅", "F", 2.2), ("龙", "M", 2.1),
    ("林", "U", 2.1), ("玉珍", "F", 2.0), ("凤英", "F", 2.0), ("晶", "F", 1.9), ("欢", "F", 1.9),
    ("玉英", "F", 1.8), ("颖", "F", 1.8), ("红梅", "F", 1.7), ("佳", "F", 1.7), ("倩", "F", 1.6),
    ("阳", "M", 1.6), ("建华", "M", 1.6), ("亮", "M", 1.5), ("成", "M", 1.5), ("琴", "F", 1.5),
    ("兰英", "F", 1.4), ("建", "M", 1.4), ("云", "F", 1.4), ("洁", "F", 1.3), ("峰", "M", 1.3),
    ("建国", "M", 1.3), ("建军", "M", 1.2), ("淑珍", "F", 1.2), ("春梅", "F", 1.2),
    ("海燕", "F", 1.1), ("晨", "U", 1.1), ("冬梅", "F", 1.1), ("秀荣", "F", 1.0), ("瑞", "M", 1.0),
    ("桂珍", "F", 1.0), ("莹", "F", 1.0), ("秀云", "F", 0.9), ("桂荣", "F", 0.9),
    ("志强", "M", 0.9), ("秀梅", "F", 0.9), ("丽娟", "F", 0.9), ("婷婷", "F", 0.8),
    ("玉华", "F", 0.8), ("兵", "M", 0.8), ("雷", "M", 0.8), ("东", "M", 0.8), ("琳", "F", 0.8),
    ("雪梅", "F", 0.7), ("淑兰", "F", 0.7), ("丽丽", "F", 0.7), ("欣", "F", 0.7), ("博", "M", 0.7),
    ("丽华", "F", 0.6), ("丹丹", "F", 0.6), ("彬", "M", 0.6), ("桂香", "F", 0.6), ("坤", "M", 0.6),
    ("淑华", "F", 0.5), ("荣", "U", 0.5), ("秀华", "F", 0.5), ("桂芝", "F", 0.5), ("岩", "M", 0.5),
    ("小红", "F", 0.5), ("金凤", "F", 0.5), ("文", "U", 0.5), ("利", "U", 0.4), ("楠", "F", 0.4),
    ("红霞", "F", 0.4), ("建平", "M", 0.4), ("桂花", "F", 0.4), ("志刚", "M", 0.4),
    ("海", "M", 0.4),
)

#: Character pools for built two-character (and single) given names.
MALE_CHARS: str = (
    "浩宇轩子博文俊杰明志国建家天嘉晨泽一思睿昊然宏伟鹏飞涛斌勇强磊军辉峰亮刚毅海波成龙"
    "振永德胜光荣华新立平安东旭阳凯航铭鑫哲彦翔晓林宁康豪瑞奕霖逸凡"
)
FEMALE_CHARS: str = (
    "欣怡雨梓涵佳思梦琪雅诗静婷晓美丽慧雪月玉秀兰芳娟红霞燕萍艳玲丹莉颖洁晶倩琳瑶妍悦"
    "欢若可馨蕾薇菲露楠彤雯璐瑾珊"
)
UNISEX_CHARS: str = "文华晨宁林平安清嘉子思一心"

#: Uyghur given names as written in Chinese characters; a full name is
#: ``given·father's given``.
UYGHUR_MALE: tuple[str, ...] = (
    "买买提", "艾力", "阿卜杜拉", "艾尼瓦尔", "吐尔逊", "玉素甫", "阿不都", "艾合买提",
    "努尔买买提", "克热木", "肉孜", "吾斯曼", "伊力哈木", "亚森", "阿迪力", "麦麦提",
    "帕尔哈提", "艾克拜尔", "热合曼", "托合提", "依明", "阿里木", "卡德尔", "司马义",
)
UYGHUR_FEMALE: tuple[str, ...] = (
    "古丽", "热依拉", "阿依古丽", "迪丽娜尔", "古丽米拉", "帕提古丽", "努尔古丽", "米娜瓦尔",
    "阿依努尔", "热娜", "祖丽菲娅", "再娜甫", "阿依夏木", "玛依拉", "萨拉买提", "布海丽且木",
)
#: Tibetan and Mongolian names: no surname and no dot (扎西多吉, 其其格).
OTHER_MINORITY_MALE: tuple[str, ...] = (
    "扎西多吉", "次仁多吉", "格桑旺堆", "丹增", "索朗", "巴特尔", "朝鲁", "额尔敦", "苏和",
    "旺堆", "达瓦次仁", "宝音", "那日苏", "阿拉坦",
)
OTHER_MINORITY_FEMALE: tuple[str, ...] = (
    "卓玛", "央金", "拉姆", "格桑梅朵", "德吉", "其其格", "萨仁", "乌兰", "娜仁花", "斯琴",
    "次仁卓玛", "白玛", "琪琪格", "高娃",
)

FOREIGN_FIRST_MALE: tuple[str, ...] = (
    "John", "David", "Michael", "James", "Robert", "Thomas", "Daniel", "Peter", "Mark", "Paul",
    "Hans", "Pierre", "Luca", "Ivan", "Carlos", "Minjun", "Hiroshi", "Kenji", "Ahmed", "Raj",
)
FOREIGN_FIRST_FEMALE: tuple[str, ...] = (
    "Mary", "Anna", "Sarah", "Emma", "Laura", "Maria", "Sophie", "Julia", "Elena", "Olga",
    "Claire", "Yuki", "Seoyeon", "Priya", "Fatima", "Linda", "Susan", "Karen", "Nina", "Eva",
)
FOREIGN_LAST: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Williams", "Miller", "Wilson", "Taylor", "Anderson",
    "Martin", "Thompson", "Mueller", "Schmidt", "Dubois", "Rossi", "Ivanov", "Garcia",
    "Kim", "Park", "Lee", "Tanaka", "Suzuki", "Sato", "Nguyen", "Khan", "Sharma", "Cohen",
)
