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
            <source>Placeholders: {stem} photo name, {style} style name, {n} number, {strength}</source>
            <translation>占位符：{stem} 照片名，{style} 风格名，{n} 序号，{strength} 强度</translation>
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
</TS>
