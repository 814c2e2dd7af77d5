//! The door page's camera (browser only): reads QR codes from the video a few times a
//! second; the same code held in front of the camera is one scan.

use super::engine::now_ms;
use std::cell::RefCell;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;

thread_local! {
    static LAST_CAMERA_READ: RefCell<(String, f64)> = const { RefCell::new((String::new(), 0.0)) };
}

/// Opens the camera and reads QR codes from it a few times a second.
pub fn start_camera(on_code: impl Fn(String) + Clone + 'static) {
    leptos::task::spawn_local(async move {
        let Some(window) = web_sys::window() else { return };
        let Ok(devices) = window.navigator().media_devices() else { return };
        let constraints = web_sys::MediaStreamConstraints::new();
        let video_constraints = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&video_constraints, &"facingMode".into(), &"environment".into());
        constraints.set_video(&video_constraints);
        let Ok(promise) = devices.get_user_media_with_constraints(&constraints) else { return };
        let Ok(stream) = wasm_bindgen_futures::JsFuture::from(promise).await else { return };
        let Ok(stream) = stream.dyn_into::<web_sys::MediaStream>() else { return };
        let document = window.document().expect("a document");
        let Some(video) =
            document.get_element_by_id("camera").and_then(|e| e.dyn_into::<web_sys::HtmlVideoElement>().ok())
        else {
            return;
        };
        video.set_src_object(Some(&stream));
        let _ = video.play();
        let Some(canvas) =
            document.get_element_by_id("camera-frame").and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        let read = Closure::<dyn FnMut()>::new(move || {
            if let Some(code) = read_frame(&video, &canvas) {
                let fresh = LAST_CAMERA_READ.with(|last| {
                    let mut last = last.borrow_mut();
                    let now = now_ms();
                    // The same code in front of the camera is one scan, not many.
                    let fresh = last.0 != code || now - last.1 > 4000.0;
                    if fresh {
                        *last = (code.clone(), now);
                    }
                    fresh
                });
                if fresh {
                    on_code(code);
                }
            }
        });
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(read.as_ref().unchecked_ref(), 200);
        read.forget();
    });
}

fn read_frame(video: &web_sys::HtmlVideoElement, canvas: &web_sys::HtmlCanvasElement) -> Option<String> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 {
        return None;
    }
    let scale = (640.0 / f64::from(vw)).min(1.0);
    let (w, h) = ((f64::from(vw) * scale) as u32, (f64::from(vh) * scale) as u32);
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx = canvas.get_context("2d").ok()??.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, f64::from(w), f64::from(h)).ok()?;
    let data = ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)).ok()?.data();
    let (w, h) = (w as usize, h as usize);
    let luma: Vec<u8> = data
        .chunks_exact(4)
        .map(|p| ((u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10) as u8)
        .collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    image.detect_grids().into_iter().find_map(|g| g.decode().ok().map(|(_, content)| content))
}
