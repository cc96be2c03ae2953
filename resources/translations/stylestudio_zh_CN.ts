<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>AdjustCommand</name>
        <message>
            <source>Change strength</source>
            <translation>调整强度</translation>
        </message>
        <message>
            <source>Toggle preserve colours</source>
            <translation>切换保留颜色</translation>
        </message>
        <message>
            <source>Change style scale</source>
            <translation>调整风格比例</translation>
        </message>
        <message>
            <source>Change preview size</source>
            <translation>更改预览尺寸</translation>
        </message>
        <message>
            <source>Choose the style to blend with</source>
            <translation>选择要混合的风格</translation>
        </message>
        <message>
            <source>Change the blend</source>
            <translation>调整混合比例</translation>
        </message>
        <message>
            <source>Change adjustments</source>
            <translation>更改调整</translation>
        </message>
    </context>
    <context>
        <name>AdjustmentsPanel</name>
        <message>
            <source>Preserve colours</source>
            <translation>保留颜色</translation>
        </message>
        <message>
            <source>Screen size (fast)</source>
            <translation>屏幕尺寸（快速）</translation>
        </message>
        <message>
            <source>Full resolution</source>
            <translation>完整分辨率</translation>
        </message>
        <message>
            <source>How strongly the style replaces the photo</source>
            <translation>风格替换照片的程度</translation>
        </message>
        <message>
            <source>Keep the photo's colours and take only the texture</source>
            <translation>保留照片的颜色，只采用纹理</translation>
        </message>
        <message>
            <source>Size of the brush strokes relative to the photo</source>
            <translation>笔触相对于照片的大小</translation>
        </message>
        <message>
            <source>Resolution of the live preview</source>
            <translation>实时预览的分辨率</translation>
        </message>
        <message>
            <source>Strength</source>
            <translation>强度</translation>
        </message>
        <message>
            <source>Style scale</source>
            <translation>风格比例</translation>
        </message>
        <message>
            <source>Preview size</source>
            <translation>预览尺寸</translation>
        </message>
        <message>
            <source>Blend with</source>
            <translation>混合风格</translation>
        </message>
        <message>
            <source>Blend</source>
            <translation>混合比例</translation>
        </message>
        <message>
            <source>{0} %</source>
            <translation>{0}%</translation>
        </message>
        <message>
            <source>{0}×</source>
            <translation>{0}×</translation>
        </message>
    </context>
    <context>
        <name>Banner</name>
        <message>
            <source>Details</source>
            <translation>详细信息</translation>
        </message>
        <message>
            <source>Close</source>
            <translation>关闭</translation>
        </message>
    </context>
    <context>
        <name>BlendControl</name>
        <message>
            <source>Blend the current style with another style of its family</source>
            <translation>将当前风格与同一系列的另一种风格混合</translation>
        </message>
        <message>
            <source>How much of the second style goes into the blend</source>
            <translation>第二种风格在混合中所占的比例</translation>
        </message>
        <message>
            <source>Save blend as style…</source>
            <translation>将混合保存为风格…</translation>
        </message>
        <message>
            <source>Add the blend to your styles</source>
            <translation>将混合添加到你的风格中</translation>
        </message>
        <message>
            <source>None</source>
            <translation>无</translation>
        </message>
        <message>
            <source>This is the current style.</source>
            <translation>这是当前风格。</translation>
        </message>
        <message>
            <source>No other style comes from the same base model.</source>
            <translation>没有其他风格来自同一个基础模型。</translation>
        </message>
        <message>
            <source>{0} %</source>
            <translation>{0}%</translation>
        </message>
    </context>
    <context>
        <name>BlendSaveFlow</name>
        <message>
            <source>Save blend as style</source>
            <translation>将混合保存为风格</translation>
        </message>
        <message>
            <source>Name of the new style:</source>
            <translation>新风格的名称：</translation>
        </message>
        <message>
            <source>Saving the blend…</source>
            <translation>正在保存混合…</translation>
        </message>
        <message>
            <source>Saved the blend as the style “{0}”.</source>
            <translation>已将混合保存为风格“{0}”。</translation>
        </message>
    </context>
    <context>
        <name>Canvas</name>
        <message>
            <source>Drop photos here or press {0}</source>
            <translation>将照片拖放到此处，或按 {0}</translation>
        </message>
        <message>
            <source>Before</source>
            <translation>原图</translation>
        </message>
        <message>
            <source>After</source>
            <translation>效果</translation>
        </message>
    </context>
    <context>
        <name>DonePage</name>
        <message>
            <source>Your style is ready</source>
            <translation>你的风格已就绪</translation>
        </message>
        <message>
            <source>“{0}” is now in your style gallery and selected. Use it on any photo like the built-in styles.</source>
            <translation>“{0}”已加入风格库并被选中。可以像内置风格一样把它用于任何照片。</translation>
        </message>
    </context>
    <context>
        <name>EngineWorker</name>
        <message>
            <source>The style library is unavailable.</source>
            <extracomment>While requests keep superseding each other (a slider being dragged), wait until they pause for STORM_QUIET_S (at most STORM_MAX_WAIT_S) before starting the next run. Bumped by the GUI whenever its canvas is reset; the original is sent once per epoch.</extracomment>
            <translation>风格库不可用。</translation>
        </message>
        <message>
            <source>The engine is not available.</source>
            <translation>引擎不可用。</translation>
        </message>
        <message>
            <source>Not enough memory to process this photo.</source>
            <translation>内存不足，无法处理这张照片。</translation>
        </message>
        <message>
            <source>“{0}” would overwrite an original photo.</source>
            <translation>“{0}”会覆盖原始照片。</translation>
        </message>
    </context>
    <context>
        <name>ExportDialog</name>
        <message>
            <source>PNG (lossless)</source>
            <translation>PNG（无损）</translation>
        </message>
        <message>
            <source>JPEG</source>
            <translation>JPEG</translation>
        </message>
        <message>
            <source>WebP</source>
            <translation>WebP</translation>
        </message>
        <message>
            <source>TIFF (lossless)</source>
            <translation>TIFF（无损）</translation>
        </message>
        <message>
            <source>Export photo</source>
            <translation>导出照片</translation>
        </message>
        <message>
            <source>Export {0} photos</source>
            <translation>导出 {0} 张照片</translation>
        </message>
        <message>
            <source>Choose…</source>
            <translation>选择…</translation>
        </message>
        <message>
            <source>Placeholders: {stem} photo name, {style} style name, {style_id} style id, {ext} extension, {index} number from 1, {n} number as 001, {strength} strength in percent</source>
            <translation>占位符：{stem} 照片名，{style} 风格名，{style_id} 风格 ID，{ext} 扩展名，{index} 从 1 开始的序号，{n} 三位序号（001），{strength} 强度百分比</translation>
        </message>
        <message>
            <source>Replace existing files (originals are never replaced)</source>
            <translation>替换已有文件（绝不替换原始照片）</translation>
        </message>
        <message>
            <source>Format</source>
            <translation>格式</translation>
        </message>
        <message>
            <source>Quality</source>
            <translation>质量</translation>
        </message>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>File name</source>
            <translation>文件名</translation>
        </message>
        <message>
            <source>Export</source>
            <translation>导出</translation>
        </message>
        <message>
            <source>Choose a folder to export to.</source>
            <translation>请选择导出文件夹。</translation>
        </message>
        <message>
            <source>The file name pattern is not valid; use {stem}, {style}, {n}.</source>
            <translation>文件名模式无效；请使用 {stem}、{style}、{n}。</translation>
        </message>
        <message>
            <source>Example: {0}</source>
            <translation>示例：{0}</translation>
        </message>
        <message>
            <source>Export to folder</source>
            <translation>导出到文件夹</translation>
        </message>
    </context>
    <context>
        <name>FrameScrubber</name>
        <message>
            <source>Frame {0} / {1} · {2}</source>
            <translation>第 {0} / {1} 帧 · {2}</translation>
        </message>
    </context>
    <context>
        <name>LossChart</name>
        <message>
            <source>Training losses</source>
            <extracomment>The loss terms shown, in legend order, with their colours. Points kept per series; older points are thinned out two to one beyond this.</extracomment>
            <translation>训练损失</translation>
        </message>
        <message>
            <source>Waiting for the first step…</source>
            <translation>正在等待第一步…</translation>
        </message>
        <message>
            <source>step {0} of {1}</source>
            <translation>第 {0} / {1} 步</translation>
        </message>
        <message>
            <source>content</source>
            <translation>内容</translation>
        </message>
        <message>
            <source>style</source>
            <translation>风格</translation>
        </message>
        <message>
            <source>adversarial</source>
            <translation>对抗</translation>
        </message>
        <message>
            <source>palette</source>
            <translation>调色板</translation>
        </message>
        <message>
            <source>texture</source>
            <translation>纹理</translation>
        </message>
        <message>
            <source>smoothness</source>
            <translation>平滑</translation>
        </message>
        <message>
            <source>total</source>
            <translation>总计</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>Adjustments</source>
            <extracomment>A stylised image was painted: (PreviewResult or AdjustResult). The original of a photo was painted. An export job finished: ExportSummary. The styles in the gallery changed (list of StyleCard).</extracomment>
            <translation>调整</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>{0} %</source>
            <translation>{0}%</translation>
        </message>
        <message>
            <source>Could not adjust the image: {0}</source>
            <translation>无法调整图像：{0}</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>Training… Show</source>
            <translation>训练中… 显示</translation>
        </message>
        <message>
            <source>A style is being learned in the background</source>
            <translation>正在后台学习一种风格</translation>
        </message>
        <message>
            <source>&amp;Open…</source>
            <translation>打开(&amp;O)…</translation>
        </message>
        <message>
            <source>Open &amp;Folder…</source>
            <translation>打开文件夹(&amp;F)…</translation>
        </message>
        <message>
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Export…</source>
            <translation>导出(&amp;E)…</translation>
        </message>
        <message>
            <source>Export &amp;All…</source>
            <translation>全部导出(&amp;A)…</translation>
        </message>
        <message>
            <source>&amp;Remove Photo from Queue</source>
            <translation>从队列中移除照片(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;Undo</source>
            <translation>撤销(&amp;U)</translation>
        </message>
        <message>
            <source>&amp;Redo</source>
            <translation>重做(&amp;R)</translation>
        </message>
        <message>
            <source>Reset &amp;Adjustments</source>
            <translation>重置调整(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>Zoom &amp;In</source>
            <translation>放大(&amp;I)</translation>
        </message>
        <message>
            <source>Zoom &amp;Out</source>
            <translation>缩小(&amp;O)</translation>
        </message>
        <message>
            <source>&amp;Fit to Window</source>
            <translation>适合窗口(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Actual Size (100 %)</source>
            <translation>实际大小（100%）(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;Compare Before/After</source>
            <translation>前后对比(&amp;C)</translation>
        </message>
        <message>
            <source>Hold Space to show the original</source>
            <translation>按住空格键显示原图</translation>
        </message>
        <message>
            <source>&amp;Styles</source>
            <translation>风格(&amp;S)</translation>
        </message>
        <message>
            <source>&amp;Import Style Pack…</source>
            <translation>导入风格包(&amp;I)…</translation>
        </message>
        <message>
            <source>Import &amp;Community Model…</source>
            <translation>导入社区模型(&amp;C)…</translation>
        </message>
        <message>
            <source>&amp;Learn a New Style…</source>
            <translation>学习新风格(&amp;L)…</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>&amp;About StyleStudio</source>
            <translation>关于 StyleStudio(&amp;A)</translation>
        </message>
        <message>
            <source>Engine not started</source>
            <translation>引擎未启动</translation>
        </message>
        <message>
            <source>Loading engine…</source>
            <translation>正在加载引擎…</translation>
        </message>
        <message>
            <source>Device used for stylising</source>
            <translation>用于风格化的设备</translation>
        </message>
        <message>
            <source>Engine unavailable</source>
            <translation>引擎不可用</translation>
        </message>
        <message>
            <source>The engine could not start.</source>
            <translation>引擎无法启动。</translation>
        </message>
        <message>
            <source>The engine could not start: {0}</source>
            <translation>引擎无法启动：{0}</translation>
        </message>
        <message>
            <source>Images ({0})</source>
            <translation>图像（{0}）</translation>
        </message>
        <message>
            <source>All files (*)</source>
            <translation>所有文件 (*)</translation>
        </message>
        <message>
            <source>Open photos</source>
            <translation>打开照片</translation>
        </message>
        <message>
            <source>Open folder</source>
            <translation>打开文件夹</translation>
        </message>
        <message>
            <source>… and {0} more</source>
            <translation>…… 还有 {0} 项</translation>
        </message>
        <message>
            <source>Skipped {0} item(s) that are not supported images.</source>
            <translation>已跳过 {0} 个不受支持的项目（不是图像）。</translation>
        </message>
        <message>
            <source>Only the first photos were opened.</source>
            <translation>只打开了前面的部分照片。</translation>
        </message>
        <message>
            <source>No photos found.</source>
            <translation>未找到照片。</translation>
        </message>
        <message>
            <source>Loading {0}…</source>
            <translation>正在加载 {0}…</translation>
        </message>
        <message>
            <source>No recent photos</source>
            <translation>没有最近的照片</translation>
        </message>
        <message>
            <source>Clear Menu</source>
            <translation>清除菜单</translation>
        </message>
        <message>
            <source>Import style pack</source>
            <translation>导入风格包</translation>
        </message>
        <message>
            <source>Style packs (*.stylepack)</source>
            <translation>风格包 (*.stylepack)</translation>
        </message>
        <message>
            <source>Style renamed to “{0}”.</source>
            <translation>风格已重命名为“{0}”。</translation>
        </message>
        <message>
            <source>Style deleted.</source>
            <translation>风格已删除。</translation>
        </message>
        <message>
            <source>Style imported.</source>
            <translation>风格已导入。</translation>
        </message>
        <message>
            <source>Style pack saved to {0}.</source>
            <translation>风格包已保存到 {0}。</translation>
        </message>
        <message>
            <source>The training wizard could not open: {0}</source>
            <translation>无法打开训练向导：{0}</translation>
        </message>
        <message>
            <source>Training continues in the background.</source>
            <translation>训练在后台继续进行。</translation>
        </message>
        <message>
            <source>Waiting for the engine to load…</source>
            <translation>正在等待引擎加载…</translation>
        </message>
        <message>
            <source>{0} · {1} × {2} px</source>
            <translation>{0} · {1} × {2} 像素</translation>
        </message>
        <message>
            <source>preview</source>
            <translation>预览</translation>
        </message>
        <message>
            <source>final</source>
            <translation>最终</translation>
        </message>
        <message>
            <source>Last run {0:.2f} s · {1} × {2} ({3})</source>
            <translation>上次运行 {0:.2f} 秒 · {1} × {2}（{3}）</translation>
        </message>
        <message>
            <source>Choose a style before exporting.</source>
            <translation>导出前请先选择一种风格。</translation>
        </message>
        <message>
            <source>An export is already running.</source>
            <translation>已有导出任务正在进行。</translation>
        </message>
        <message>
            <source>Exporting %v / %m</source>
            <translation>正在导出 %v / %m</translation>
        </message>
        <message>
            <source>Cancelling export…</source>
            <translation>正在取消导出…</translation>
        </message>
        <message>
            <source>Exporting {0}…</source>
            <translation>正在导出 {0}…</translation>
        </message>
        <message>
            <source>Export cancelled after {0} of {1} photo(s).</source>
            <translation>导出已取消，完成 {0} / {1} 张照片。</translation>
        </message>
        <message>
            <source>Exported {0} of {1} photo(s).</source>
            <translation>已导出 {0} / {1} 张照片。</translation>
        </message>
        <message>
            <source>{0} failed.</source>
            <translation>{0} 张失败。</translation>
        </message>
        <message>
            <source>About StyleStudio</source>
            <translation>关于 StyleStudio</translation>
        </message>
        <message>
            <source>&lt;b&gt;StyleStudio {0}&lt;/b&gt;&lt;p&gt;Learn an artistic style and apply it to your photos.&lt;/p&gt;</source>
            <translation>&lt;b&gt;StyleStudio {0}&lt;/b&gt;&lt;p&gt;学习一种艺术风格，并将其应用到你的照片上。&lt;/p&gt;</translation>
        </message>
    </context>
    <context>
        <name>MaskCommand</name>
        <message>
            <source>Paint mask</source>
            <translation>绘制蒙版</translation>
        </message>
        <message>
            <source>Erase mask</source>
            <translation>擦除蒙版</translation>
        </message>
        <message>
            <source>Invert mask</source>
            <translation>反转蒙版</translation>
        </message>
        <message>
            <source>Clear mask</source>
            <translation>清除蒙版</translation>
        </message>
        <message>
            <source>Rough subject mask</source>
            <translation>粗略主体蒙版</translation>
        </message>
    </context>
    <context>
        <name>MaskEditor</name>
        <message>
            <source>Smaller Brush</source>
            <translation>缩小画笔</translation>
        </message>
        <message>
            <source>Bigger Brush</source>
            <translation>放大画笔</translation>
        </message>
        <message>
            <source>Mask mode: drag to paint where the style applies; the middle button pans; [ and ] change the brush size.</source>
            <translation>蒙版模式：拖动以绘制应用风格的区域；按住中键平移；[ 和 ] 调整画笔大小。</translation>
        </message>
    </context>
    <context>
        <name>MaskToolBar</name>
        <message>
            <source>Region mask</source>
            <translation>区域蒙版</translation>
        </message>
        <message>
            <source>Paint Mask</source>
            <translation>绘制蒙版</translation>
        </message>
        <message>
            <source>Paint where the style applies. The first brush stroke styles only where you paint; the first eraser stroke takes the style away where you erase.</source>
            <translation>绘制应用风格的区域。第一笔画笔只为绘制处添加风格；第一笔橡皮擦只去掉擦除处的风格。</translation>
        </message>
        <message>
            <source>Brush</source>
            <translation>画笔</translation>
        </message>
        <message>
            <source>Paint the style on (white in the mask)</source>
            <translation>涂上风格（蒙版中的白色）</translation>
        </message>
        <message>
            <source>Eraser</source>
            <translation>橡皮擦</translation>
        </message>
        <message>
            <source>Take the style away (black in the mask)</source>
            <translation>去掉风格（蒙版中的黑色）</translation>
        </message>
        <message>
            <source>Brush size, in % of the photo's long side ([ and ])</source>
            <translation>画笔大小，占照片长边的百分比（[ 和 ]）</translation>
        </message>
        <message>
            <source>Softness of the brush's edge</source>
            <translation>画笔边缘的柔和度</translation>
        </message>
        <message>
            <source>Invert</source>
            <translation>反转</translation>
        </message>
        <message>
            <source>Swap the styled and the original areas</source>
            <translation>互换风格化区域与原图区域</translation>
        </message>
        <message>
            <source>Clear</source>
            <translation>清除</translation>
        </message>
        <message>
            <source>Remove the mask: the style covers the whole photo</source>
            <translation>移除蒙版：风格覆盖整张照片</translation>
        </message>
        <message>
            <source>Rough Subject</source>
            <translation>粗略主体</translation>
        </message>
        <message>
            <source>A rough starting mask: the subject guessed from colour contrast with the photo's border and a centre prior (no model). Refine it with the brush and the eraser; it fails on busy backgrounds and subjects touching the border.</source>
            <translation>粗略的起始蒙版：根据与照片边缘的颜色对比和居中先验猜测主体（不使用模型）。请用画笔和橡皮擦修正；背景杂乱或主体接触边缘时效果不佳。</translation>
        </message>
        <message>
            <source>Show Mask</source>
            <translation>显示蒙版</translation>
        </message>
        <message>
            <source>Tint the areas that get the style</source>
            <translation>为应用风格的区域着色</translation>
        </message>
        <message>
            <source>Size</source>
            <translation>大小</translation>
        </message>
        <message>
            <source>Softness</source>
            <translation>柔和度</translation>
        </message>
        <message>
            <source>{0} %</source>
            <translation>{0} %</translation>
        </message>
    </context>
    <context>
        <name>ModelImportDialog</name>
        <message>
            <source>Attribution</source>
            <translation>署名</translation>
        </message>
        <message>
            <source>Give the style a name (one line, at most {0} characters).</source>
            <translation>请为风格命名（一行，最多 {0} 个字符）。</translation>
        </message>
        <message>
            <source>Import</source>
            <translation>导入</translation>
        </message>
        <message>
            <source>Import community model</source>
            <translation>导入社区模型</translation>
        </message>
        <message>
            <source>Licence</source>
            <translation>许可证</translation>
        </message>
        <message>
            <source>Style name</source>
            <translation>风格名称</translation>
        </message>
        <message>
            <source>for example CC BY 4.0</source>
            <translation>例如 CC BY 4.0</translation>
        </message>
        <message>
            <source>who trained the model, and where it is from</source>
            <translation>模型的训练者及其来源</translation>
        </message>
        <message>
            <source>{0} will become a new style. Its tensors are checked against the fast-neural-style network; no code in the file is run.</source>
            <translation>{0} 将成为一个新风格。其张量会按 fast-neural-style 网络逐一检查；文件中的任何代码都不会被运行。</translation>
        </message>
    </context>
    <context>
        <name>ModelImportFlow</name>
        <message>
            <source>Fast-neural-style models (*.pth *.pt *.model *.safetensors);;All files (*)</source>
            <translation>Fast-neural-style 模型 (*.pth *.pt *.model *.safetensors);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Import community model</source>
            <translation>导入社区模型</translation>
        </message>
        <message>
            <source>Imported “{0}” as a new style.</source>
            <translation>已将“{0}”导入为新风格。</translation>
        </message>
        <message>
            <source>Importing {0}…</source>
            <translation>正在导入 {0}…</translation>
        </message>
    </context>
    <context>
        <name>NamePage</name>
        <message>
            <source>Name your style</source>
            <translation>为你的风格命名</translation>
        </message>
        <message>
            <source>StyleStudio will learn a new style from a few examples of the look you want, such as your paintings or drawings.</source>
            <translation>StyleStudio 会从几个你想要的效果示例（例如你的绘画或素描）中学习新风格。</translation>
        </message>
        <message>
            <source>e.g. Watercolour sketches</source>
            <translation>例如：水彩速写</translation>
        </message>
        <message>
            <source>Optional</source>
            <translation>可选</translation>
        </message>
        <message>
            <source>Another style is still being learned in the background; learning two at once makes both slower.</source>
            <translation>另一种风格仍在后台学习中；同时学习两种会使两者都变慢。</translation>
        </message>
        <message>
            <source>&amp;Name:</source>
            <translation>名称(&amp;N)：</translation>
        </message>
        <message>
            <source>&amp;Description:</source>
            <translation>描述(&amp;D)：</translation>
        </message>
        <message>
            <source>You already have a style with this name; the new one will be added beside it.</source>
            <translation>已有同名风格；新风格将与其并存。</translation>
        </message>
    </context>
    <context>
        <name>PhotosPage</name>
        <message>
            <source>Practice photos</source>
            <translation>练习照片</translation>
        </message>
        <message>
            <source>The style is learned by repainting ordinary photos. Photos like the ones you will stylise later work best; this step is optional.</source>
            <translation>风格是通过重绘普通照片来学习的。与你之后要风格化的照片相似的照片效果最好；此步骤可选。</translation>
        </message>
        <message>
            <source>The photos already open in StyleStudio ({0})</source>
            <translation>已在 StyleStudio 中打开的照片（{0}）</translation>
        </message>
        <message>
            <source>The photos in a folder:</source>
            <translation>文件夹中的照片：</translation>
        </message>
        <message>
            <source>None: use StyleStudio's sample photos</source>
            <translation>不选：使用 StyleStudio 的示例照片</translation>
        </message>
        <message>
            <source>(no folder chosen)</source>
            <translation>（未选择文件夹）</translation>
        </message>
        <message>
            <source>C&amp;hoose Folder…</source>
            <translation>选择文件夹(&amp;H)…</translation>
        </message>
        <message>
            <source>Choose a Folder of Photos</source>
            <translation>选择照片文件夹</translation>
        </message>
        <message>
            <source>Choose a folder of photos.</source>
            <translation>请选择一个照片文件夹。</translation>
        </message>
        <message>
            <source>No practice photos chosen.</source>
            <translation>未选择练习照片。</translation>
        </message>
        <message>
            <source>{0} practice photo(s)</source>
            <translation>{0} 张练习照片</translation>
        </message>
        <message>
            <source>Checking the images…</source>
            <translation>正在检查图像…</translation>
        </message>
        <message>
            <source>The images are fine.</source>
            <translation>图像没有问题。</translation>
        </message>
    </context>
    <context>
        <name>PreviewGrid</name>
        <message>
            <source>Previews appear after the first steps.</source>
            <translation>预览将在最初几步后出现。</translation>
        </message>
        <message>
            <source>Before</source>
            <translation>原图</translation>
        </message>
        <message>
            <source>After</source>
            <translation>效果</translation>
        </message>
        <message>
            <source>Step {0}</source>
            <translation>第 {0} 步</translation>
        </message>
    </context>
    <context>
        <name>SettingsPage</name>
        <message>
            <source>Settings</source>
            <extracomment>Checkpoints, previews and data loading cost a little on top of the measured steps. (field, minimum, maximum, decimals or None for whole numbers, single step)</extracomment>
            <translation>设置</translation>
        </message>
        <message>
            <source>Longer training gives a more faithful style.</source>
            <translation>训练时间越长，风格越逼真。</translation>
        </message>
        <message>
            <source>Start &amp;Training</source>
            <translation>开始训练(&amp;T)</translation>
        </message>
        <message>
            <source>&amp;Quick: a first impression</source>
            <translation>快速(&amp;Q)：初步效果</translation>
        </message>
        <message>
            <source>&amp;Balanced: good results (recommended)</source>
            <translation>均衡(&amp;B)：效果良好（推荐）</translation>
        </message>
        <message>
            <source>B&amp;est: finest detail, takes longest</source>
            <translation>最佳(&amp;E)：细节最丰富，耗时最长</translation>
        </message>
        <message>
            <source>&amp;Advanced settings</source>
            <translation>高级设置(&amp;A)</translation>
        </message>
        <message>
            <source>Steps:</source>
            <translation>步数：</translation>
        </message>
        <message>
            <source>Crop size (pixels):</source>
            <translation>裁剪尺寸（像素）：</translation>
        </message>
        <message>
            <source>Batch size:</source>
            <translation>批大小：</translation>
        </message>
        <message>
            <source>Learning rate (generator):</source>
            <translation>学习率（生成器）：</translation>
        </message>
        <message>
            <source>Learning rate (discriminator):</source>
            <translation>学习率（判别器）：</translation>
        </message>
        <message>
            <source>Content weight:</source>
            <translation>内容权重：</translation>
        </message>
        <message>
            <source>Style weight:</source>
            <translation>风格权重：</translation>
        </message>
        <message>
            <source>Adversarial weight:</source>
            <translation>对抗权重：</translation>
        </message>
        <message>
            <source>Smoothness weight:</source>
            <translation>平滑权重：</translation>
        </message>
        <message>
            <source>Palette weight:</source>
            <translation>调色板权重：</translation>
        </message>
        <message>
            <source>Texture-distribution weight:</source>
            <translation>纹理分布权重：</translation>
        </message>
        <message>
            <source>Random seed:</source>
            <translation>随机种子：</translation>
        </message>
        <message>
            <source>Continue the stopped run of this style from step {0}</source>
            <translation>从第 {0} 步继续此风格已停止的训练</translation>
        </message>
        <message>
            <source>{0} Measuring how fast this computer trains…</source>
            <translation>{0} 正在测量这台电脑的训练速度…</translation>
        </message>
        <message>
            <source>The time could not be estimated: {0}</source>
            <translation>无法估计所需时间：{0}</translation>
        </message>
        <message>
            <source>Estimated time on this computer ({0}): {1}</source>
            <translation>在这台电脑（{0}）上的预计时间：{1}</translation>
        </message>
        <message>
            <source>unknown</source>
            <translation>未知</translation>
        </message>
        <message>
            <source>about a minute</source>
            <translation>约一分钟</translation>
        </message>
        <message>
            <source>about {0} minutes</source>
            <translation>约 {0} 分钟</translation>
        </message>
        <message>
            <source>about {0} hours</source>
            <translation>约 {0} 小时</translation>
        </message>
    </context>
    <context>
        <name>StyleGallery</name>
        <message>
            <source>Styles</source>
            <translation>风格</translation>
        </message>
        <message>
            <source>Loading styles…</source>
            <translation>正在加载风格…</translation>
        </message>
        <message>
            <source>Import style pack…</source>
            <translation>导入风格包…</translation>
        </message>
        <message>
            <source>Learn a new style…</source>
            <translation>学习新风格…</translation>
        </message>
        <message>
            <source>Built-in style</source>
            <translation>内置风格</translation>
        </message>
        <message>
            <source>Your style</source>
            <translation>你的风格</translation>
        </message>
        <message>
            <source>No styles yet. Import a style pack or learn a new style.</source>
            <translation>还没有风格。请导入风格包或学习新风格。</translation>
        </message>
        <message>
            <source>Rename…</source>
            <translation>重命名…</translation>
        </message>
        <message>
            <source>Export style pack…</source>
            <translation>导出风格包…</translation>
        </message>
        <message>
            <source>Delete…</source>
            <translation>删除…</translation>
        </message>
        <message>
            <source>Built-in styles cannot be changed</source>
            <translation>内置风格不能修改</translation>
        </message>
        <message>
            <source>Rename style</source>
            <translation>重命名风格</translation>
        </message>
        <message>
            <source>New name:</source>
            <translation>新名称：</translation>
        </message>
        <message>
            <source>Export style pack</source>
            <translation>导出风格包</translation>
        </message>
        <message>
            <source>Style packs (*.stylepack)</source>
            <translation>风格包 (*.stylepack)</translation>
        </message>
        <message>
            <source>Delete style</source>
            <translation>删除风格</translation>
        </message>
        <message>
            <source>Delete the style “{0}”? This cannot be undone.</source>
            <translation>删除风格“{0}”？此操作无法撤销。</translation>
        </message>
    </context>
    <context>
        <name>StyleImagesPage</name>
        <message>
            <source>Add style images</source>
            <extracomment>The trainer refuses images smaller than this (``core.training.data.MIN_IMAGE_SIDE``).</extracomment>
            <translation>添加风格图像</translation>
        </message>
        <message>
            <source>Drop a few images in the style you want to learn (3–10 is plenty), or click Add Images. Larger images show brush strokes and textures best.</source>
            <translation>拖入几张具有你想学习的风格的图像（3–10 张就足够），或点击“添加图像”。较大的图像最能体现笔触和纹理。</translation>
        </message>
        <message>
            <source>Style images</source>
            <translation>风格图像</translation>
        </message>
        <message>
            <source>&amp;Add Images…</source>
            <translation>添加图像(&amp;A)…</translation>
        </message>
        <message>
            <source>&amp;Remove</source>
            <translation>移除(&amp;R)</translation>
        </message>
        <message>
            <source>Add Style Images</source>
            <translation>添加风格图像</translation>
        </message>
        <message>
            <source>Images ({0})</source>
            <translation>图像（{0}）</translation>
        </message>
        <message>
            <source>{0} is not a supported image.</source>
            <translation>{0} 不是受支持的图像。</translation>
        </message>
        <message>
            <source>{0} could not be read.</source>
            <translation>无法读取 {0}。</translation>
        </message>
        <message>
            <source>{0} is only {1}×{2} pixels; it is too small to learn from.</source>
            <translation>{0} 只有 {1}×{2} 像素，太小，无法用于学习。</translation>
        </message>
        <message>
            <source>{0} is small ({1}×{2} pixels); images of at least {3} pixels on each side teach details better.</source>
            <translation>{0} 较小（{1}×{2} 像素）；每边至少 {3} 像素的图像能更好地学到细节。</translation>
        </message>
        <message>
            <source>{0} is the same image as {1}; it will be used once.</source>
            <translation>{0} 与 {1} 是同一张图像，只会使用一次。</translation>
        </message>
        <message>
            <source>{0} image(s)</source>
            <translation>{0} 张图像</translation>
        </message>
        <message>
            <source>Checking images…</source>
            <translation>正在检查图像…</translation>
        </message>
    </context>
    <context>
        <name>TrainingController</name>
        <message>
            <source>Style ready</source>
            <extracomment>Training threads that have not finished. They have no Qt parent and are referenced here, so deleting a wizard or controller never destroys a running QThread (Qt aborts the process then). (title, text) when a run ends: the main window may show it; see ``notify.py``.</extracomment>
            <translation>风格已就绪</translation>
        </message>
        <message>
            <source>“{0}” has been learned and added to your styles.</source>
            <translation>“{0}”已学习完成并添加到你的风格中。</translation>
        </message>
        <message>
            <source>Training stopped</source>
            <translation>训练已停止</translation>
        </message>
        <message>
            <source>“{0}” could not be learned: {1}</source>
            <translation>无法学习“{0}”：{1}</translation>
        </message>
    </context>
    <context>
        <name>TrainingPage</name>
        <message>
            <source>Learning your style</source>
            <translation>正在学习你的风格</translation>
        </message>
        <message>
            <source>You can close this window: training continues in the background and StyleStudio tells you when the style is ready.</source>
            <translation>你可以关闭此窗口：训练会在后台继续，风格就绪时 StyleStudio 会通知你。</translation>
        </message>
        <message>
            <source>Starting…</source>
            <translation>正在开始…</translation>
        </message>
        <message>
            <source>&amp;Pause</source>
            <translation>暂停(&amp;P)</translation>
        </message>
        <message>
            <source>&amp;Stop Training</source>
            <translation>停止训练(&amp;S)</translation>
        </message>
        <message>
            <source>Stops without creating the style; the progress is kept so you can continue.</source>
            <translation>停止且不创建风格；进度会保留，以便之后继续。</translation>
        </message>
        <message>
            <source>&amp;Try Again</source>
            <translation>重试(&amp;T)</translation>
        </message>
        <message>
            <source>Change &amp;Settings</source>
            <translation>更改设置(&amp;S)</translation>
        </message>
        <message>
            <source>Choose VGG19 &amp;Weights File…</source>
            <translation>选择 VGG19 权重文件(&amp;W)…</translation>
        </message>
        <message>
            <source>Choose VGG19 Weights</source>
            <translation>选择 VGG19 权重</translation>
        </message>
        <message>
            <source>Weights (*.safetensors *.pth *.pt);;All files (*)</source>
            <translation>权重 (*.safetensors *.pth *.pt);;所有文件 (*)</translation>
        </message>
        <message>
            <source>&amp;Resume</source>
            <translation>继续(&amp;R)</translation>
        </message>
        <message>
            <source>Paused.</source>
            <translation>已暂停。</translation>
        </message>
        <message>
            <source>Stopping and saving the progress…</source>
            <translation>正在停止并保存进度…</translation>
        </message>
        <message>
            <source>Training…</source>
            <translation>正在训练…</translation>
        </message>
        <message>
            <source>Done: the style was added to your styles.</source>
            <translation>完成：风格已添加到你的风格中。</translation>
        </message>
        <message>
            <source>Training on {0}.</source>
            <translation>正在 {0} 上训练。</translation>
        </message>
        <message>
            <source>Continuing from step {0}.</source>
            <translation>从第 {0} 步继续。</translation>
        </message>
        <message>
            <source>{0} left · {1:.1f} steps/s</source>
            <translation>剩余 {0} · {1:.1f} 步/秒</translation>
        </message>
        <message>
            <source>Stopped at step {0}. No style was created; the progress was kept, so starting again with the same name and settings continues from there.</source>
            <translation>已在第 {0} 步停止。未创建风格；进度已保留，使用相同的名称和设置重新开始将从该处继续。</translation>
        </message>
        <message>
            <source>Stopped. No style was created.</source>
            <translation>已停止。未创建风格。</translation>
        </message>
        <message>
            <source>Training stopped: {0}</source>
            <translation>训练已停止：{0}</translation>
        </message>
        <message>
            <source>StyleStudio needs the VGG19 image-recognition weights (548 MB) to learn styles. Connect to the internet and try again, or choose a downloaded weights file.</source>
            <translation>StyleStudio 需要 VGG19 图像识别权重（548 MB）才能学习风格。请连接互联网后重试，或选择已下载的权重文件。</translation>
        </message>
    </context>
    <context>
        <name>TrainingWizard</name>
        <message>
            <source>Learn a New Style</source>
            <extracomment>The window was closed while training goes on; carries the ``TrainingController``.</extracomment>
            <translation>学习新风格</translation>
        </message>
        <message>
            <source>Continue in &amp;Background</source>
            <translation>在后台继续(&amp;B)</translation>
        </message>
        <message>
            <source>&amp;Cancel</source>
            <translation>取消(&amp;C)</translation>
        </message>
    </context>
    <context>
        <name>VideoExportFlow</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Choose a style before exporting.</source>
            <translation>导出前请先选择一种风格。</translation>
        </message>
        <message>
            <source>Export video</source>
            <translation>导出视频</translation>
        </message>
        <message>
            <source>Videos ({0})</source>
            <translation>视频 ({0})</translation>
        </message>
        <message>
            <source>A video is already being exported.</source>
            <translation>已有一个视频正在导出。</translation>
        </message>
        <message>
            <source>Rendering %v / %m</source>
            <translation>正在渲染 %v / %m</translation>
        </message>
        <message>
            <source>Rendering {0}…</source>
            <translation>正在渲染 {0}…</translation>
        </message>
        <message>
            <source>Cancelling the video export…</source>
            <translation>正在取消视频导出…</translation>
        </message>
        <message>
            <source>Rendering {0}: frame {1} of {2}, {3} left</source>
            <translation>正在渲染 {0}：第 {1} / {2} 帧，剩余 {3}</translation>
        </message>
        <message>
            <source>Video export cancelled; nothing was written.</source>
            <translation>视频导出已取消，未写入任何文件。</translation>
        </message>
        <message>
            <source>Exported {0} ({1} frames).</source>
            <translation>已导出 {0}（{1} 帧）。</translation>
        </message>
    </context>
</TS>
