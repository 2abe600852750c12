// vip_impose: saddle-stitch imposition with qpdf's C++ API (form XObjects placed on new pages; no PDF is written by
// hand). C++ behind a C header, as the MessageFormat bridge is.
#define POINTERHOLDER_TRANSITION 4 // qpdf 11: std::shared_ptr only, no PointerHolder
extern "C" {
#include "impose.h"
#include "outfile.h"
}

#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>

#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

const double SHEET_W = 841.89; // A4 landscape, points
const double SHEET_H = 595.28;

} // namespace

size_t vip_impose_saddle_order(size_t pages, int rtl, size_t *order)
{
    size_t n = (pages + 3) / 4 * 4;
    size_t k = 0;
    for (size_t s = 0; s < n / 4; s++) {
        // Front: the outermost pages of what is left (last on the left, first on the right); back: the next two,
        // so that folded sheets read 1, 2, 3 … n.
        size_t pick[4] = {n - 2 * s, 2 * s + 1, 2 * s + 2, n - 2 * s - 1};
        for (size_t i = 0; i < 4; i++) {
            size_t p = pick[rtl ? i ^ 1 : i];
            order[k++] = p <= pages ? p : 0;
        }
    }
    return k;
}

int vip_impose_booklet(const char *in, const char *out_path, int rtl, vip_error *err)
{
    try {
        QPDF src;
        src.processFile(in);
        std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(src).getAllPages();
        if (pages.empty())
            return vip_error_set(err, VIP_ERR_INPUT, "%s: no pages to impose", in);
        std::vector<size_t> order(pages.size() + 3);
        size_t slots = vip_impose_saddle_order(pages.size(), rtl, order.data());

        QPDF out;
        out.emptyPDF();
        QPDFPageDocumentHelper out_pages(out);
        std::vector<QPDFObjectHandle> forms(pages.size());
        for (size_t side = 0; side < slots / 2; side++) {
            QPDFObjectHandle xobjects = QPDFObjectHandle::newDictionary();
            std::string content;
            for (size_t half = 0; half < 2; half++) {
                size_t p = order[2 * side + half];
                if (!p)
                    continue; // a blank page of the padding
                if (!forms[p - 1].isInitialized())
                    forms[p - 1] = out.copyForeignObject(pages[p - 1].getFormXObjectForPage());
                std::string name = "/P" + std::to_string(half);
                xobjects.replaceKey(name, forms[p - 1]);
                double x0 = half * SHEET_W / 2;
                QPDFObjectHandle::Rectangle rect(x0, 0, x0 + SHEET_W / 2, SHEET_H);
                content += QPDFPageObjectHelper(pages[p - 1]).placeFormXObject(forms[p - 1], name, rect, true, true,
                                                                               true);
            }
            QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
            resources.replaceKey("/XObject", xobjects);
            QPDFObjectHandle page = QPDFObjectHandle::newDictionary();
            page.replaceKey("/Type", QPDFObjectHandle::newName("/Page"));
            page.replaceKey("/MediaBox", QPDFObjectHandle::newFromRectangle(
                                             QPDFObjectHandle::Rectangle(0, 0, SHEET_W, SHEET_H)));
            page.replaceKey("/Resources", resources);
            page.replaceKey("/Contents", QPDFObjectHandle::newStream(&out, content));
            out_pages.addPage(out.makeIndirectObject(page), false);
        }
        QPDFWriter w(out);
        w.setOutputMemory();
        w.setDeterministicID(true);
        w.setStreamDataMode(qpdf_s_compress);
        w.setObjectStreamMode(qpdf_o_generate);
        w.write();
        std::unique_ptr<Buffer> buf(w.getBuffer());
        return vip_outfile_write_whole(out_path, buf->getBuffer(), buf->getSize(), err);
    } catch (std::bad_alloc const &) {
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory imposing %s", in);
    } catch (std::exception const &e) {
        return vip_error_set(err, VIP_ERR_INPUT, "%s: cannot impose: %.300s", in, e.what());
    }
}
