/** The orders project of the `espmesh up` end-to-end tests. */

/** Orders keyed by (symbol, id), routed by symbol; totals per symbol. */
export const ORDERS_XML = `<project name="orders">
  <contqueries>
    <contquery name="cq">
      <windows>
        <window-source name="Orders">
          <schema-string>symbol*:string,id*:int64,qty:int32,price:double</schema-string>
        </window-source>
        <window-aggregate name="Totals">
          <schema-string>symbol*:string,qty:int64,orders:int64</schema-string>
          <output>
            <field-expr>ESP_aSum(qty)</field-expr>
            <field-expr>ESP_aCount()</field-expr>
          </output>
        </window-aggregate>
      </windows>
      <edges><edge source="Orders" target="Totals"/></edges>
    </contquery>
  </contqueries>
</project>`;
